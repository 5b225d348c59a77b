"""One API Gateway REST proxy event (payload 1.0) as the routes read it: a thin view, no copy."""

from __future__ import annotations

from typing import Any


class Request:
    """The request an event describes: its path, headers (any case), query, body and context."""

    __slots__ = ("_headers", "raw_event")

    def __init__(self, event: dict[str, Any]) -> None:
        self.raw_event = event
        self._headers: dict[str, str] | None = None

    @property
    def http_method(self) -> str:
        """The method, upper case."""
        return str(self.raw_event.get("httpMethod") or "").upper()

    @property
    def path(self) -> str:
        """The path as API Gateway passes it (still percent-encoded), without the stage."""
        return str(self.raw_event.get("path") or "/")

    @property
    def stage_path(self) -> str:
        """The path the client asked for, with the stage or base path (requestContext.path)."""
        context = self.raw_event.get("requestContext")
        seen = context.get("path") if isinstance(context, dict) else None
        return seen if isinstance(seen, str) else ""

    @property
    def headers(self) -> dict[str, str]:
        """The headers by lower-cased name (the last value of a repeated one, as API Gateway passes it)."""
        if self._headers is None:
            headers = self.raw_event.get("headers") or {}
            self._headers = {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}
        return self._headers

    @property
    def query_string_parameters(self) -> dict[str, str]:
        """Each query parameter's last value."""
        query: dict[str, str] = self.raw_event.get("queryStringParameters") or {}
        return query

    @property
    def multi_value_query_string_parameters(self) -> dict[str, list[str]]:
        """Each query parameter's values."""
        query: dict[str, list[str]] = self.raw_event.get("multiValueQueryStringParameters") or {}
        return query

    @property
    def body(self) -> str | None:
        """The body as the event holds it (base64 when `is_base64_encoded`)."""
        body = self.raw_event.get("body")
        return body if isinstance(body, str) else None

    @property
    def is_base64_encoded(self) -> bool:
        """Whether API Gateway base64-encoded the body (a binary media type)."""
        return bool(self.raw_event.get("isBase64Encoded"))
