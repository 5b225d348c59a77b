"""The Lambda entry point: routing only (the API lives in `api`, the rules in `logic`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from serverless_crud.api.app import resolve
from serverless_crud.observability import logger, metrics, traced

if TYPE_CHECKING:  # an annotation only: no import at cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext


@traced
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one API Gateway REST proxy event (v1.0) to its proxy response."""
    try:
        return resolve(event, context)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
