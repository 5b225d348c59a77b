"""Logger and metrics (AWS Lambda Powertools), shared by every layer."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "serverless-crud")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ServerlessCrud"), service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def traced(handler: Handler) -> Handler:
    """Wrap the Lambda handler with X-Ray tracing (Powertools Tracer) when TRACING_ENABLED is true.

    Tracing is opt-in (template parameter `Tracing`): the X-Ray SDK is imported only then, so the
    cold start of an untraced function does not pay for it.
    """
    if os.environ.get("TRACING_ENABLED", "false").lower() != "true":
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=SERVICE)  # patches botocore: DynamoDB calls become subsegments
    return cast("Handler", tracer.capture_lambda_handler(handler, capture_response=False))
