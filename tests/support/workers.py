"""Lambda instances in separate processes, for concurrency tests (the handler is one event at a time)."""

from __future__ import annotations

import os
from typing import Any


def invoke_all(env: dict[str, str], barrier: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In a fresh process: set the function's environment, wait for the others, send `events`."""
    os.environ.update(env)
    from serverless_crud.handler import lambda_handler
    from tests.support.events import lambda_context

    lambda_handler(
        {"path": "/health", "httpMethod": "GET", "headers": {}, "requestContext": {}}, lambda_context()
    )
    barrier.wait(timeout=60)
    return [lambda_handler(event, lambda_context()) for event in events]
