"""Logger and metrics (AWS Lambda Powertools), shared by every layer, configured from `settings`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

from serverless_crud import settings

_initial = settings.current()  # cold start: a bad setting stops the instance here, with its reason
logger = Logger(service=_initial.service_name, level=_initial.log_level)
metrics = Metrics(namespace=_initial.metrics_namespace, service=_initial.service_name)

Handler = TypeVar("Handler", bound=Callable[..., Any])


@settings.per_settings
def configure(current: settings.Settings) -> None:
    """Apply the settings' log level, service and namespace (again after `settings.reset()`)."""
    logger.setLevel(current.log_level)
    logger.append_keys(service=current.service_name)
    metrics.namespace = current.metrics_namespace
    metrics.service = current.service_name


def traced(handler: Handler) -> Handler:
    """Wrap the Lambda handler with X-Ray tracing (Powertools Tracer) when TRACING_ENABLED is true.

    Tracing is opt-in (template parameter `TracingMode`): the X-Ray SDK is imported only then, so
    the cold start of an untraced function does not pay for it.
    """
    if not _initial.tracing_enabled:
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=_initial.service_name)  # patches botocore: DynamoDB calls become subsegments
    return cast("Handler", tracer.capture_lambda_handler(handler, capture_response=False))
