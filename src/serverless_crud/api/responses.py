"""Responses: a status, headers and a body (bytes are sent base64-encoded), and JSON with exact numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from serverless_crud.models import exact_json

JSON = "application/json"


class Response:
    """What a route answers."""

    __slots__ = ("body", "headers", "status_code")

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str] = dict(headers) if headers else {}
        if content_type is not None:
            self.headers.setdefault("Content-Type", content_type)


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response whose numbers are exact."""
    return Response(status_code=status, content_type=JSON, body=exact_json.dumps(value), headers=headers)
