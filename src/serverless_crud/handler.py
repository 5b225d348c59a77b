"""The Lambda entry point of the API: wired by `wiring`, answered by `api` (the rules live in `logic`)."""

from __future__ import annotations

import gc

# Initialisation only allocates objects that live as long as the instance: collecting garbage
# during it finds none and costs ~10 ms of cold start. Collection resumes after the first request.
gc.disable()

from typing import TYPE_CHECKING, Any  # noqa: E402

from serverless_crud import snapstart, wiring  # noqa: E402, F401 (snapstart registers the SnapStart restore hook)
from serverless_crud.api.app import dispatcher, resolve  # noqa: E402
from serverless_crud.observability import configure, logger, metrics, traced  # noqa: E402

if TYPE_CHECKING:  # an annotation only: no import at cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Cold start: importing `observability` read and validated the settings (a bad value stops the
# instance here, naming the variable); the API is wired and its routes are assembled once.
wiring.wire_api()
dispatcher()


@traced
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one API Gateway REST proxy event (v1.0) to its proxy response."""
    # The correlation id is API Gateway's request id (what Powertools' API_GATEWAY_REST path reads,
    # without a JMESPath query on every request).
    request_context = event.get("requestContext")
    logger.set_correlation_id(request_context.get("requestId") if isinstance(request_context, dict) else None)
    try:
        configure()  # (a no-op until the settings are reset)
        return resolve(event, context)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        if not gc.isenabled():
            _end_of_initialisation()


def _end_of_initialisation() -> None:
    """After the first request: move what initialisation built out of the collector's way, resume it."""
    gc.freeze()
    gc.enable()
