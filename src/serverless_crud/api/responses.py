"""JSON responses with exact numbers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from serverless_crud.api.http import JSON
from serverless_crud.models import exact_json


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON response whose numbers are exact."""
    return Response(status_code=status, content_type=JSON, body=exact_json.dumps(value), headers=headers)
