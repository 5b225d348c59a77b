"""Errors as application/problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from serverless_crud.api.responses import Response
from serverless_crud.models import exact_json

PROBLEM_JSON = "application/problem+json"
_TYPE_PREFIX = "urn:serverless-crud:problem:"
#: RFC 9110's reason phrases where Python 3.11's HTTPStatus still has the older ones.
_TITLES = {413: "Content Too Large", 422: "Unprocessable Content"}


class ApiProblem(Exception):
    """An HTTP-level error raised by the API layer itself (malformed body, wrong method...)."""

    def __init__(self, status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response: type, title, status, detail and, for validation, errors."""
    phrase = _TITLES.get(status) or HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": _TYPE_PREFIX + phrase.lower().replace(" ", "-").replace("'", ""),
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=exact_json.dumps(body),
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
