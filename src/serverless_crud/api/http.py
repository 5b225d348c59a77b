"""Request helpers: JSON bodies under the API's rules, conditional headers, links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from serverless_crud.api import exact_json
from serverless_crud.api.problems import ApiProblem

JSON = "application/json"
MERGE_PATCH_JSON = "application/merge-patch+json"


def header(event: APIGatewayProxyEvent, name: str) -> str | None:
    """A request header's value, whatever its case."""
    value: str | None = event.headers.get(name)
    return value


def media_type(event: APIGatewayProxyEvent) -> str:
    """The request's media type, without parameters, lower-cased."""
    return (header(event, "content-type") or "").split(";", 1)[0].strip().lower()


def json_body(event: APIGatewayProxyEvent, accepted: tuple[str, ...], max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, or an ApiProblem (413, 415 or 400) saying why not."""
    raw = event.decoded_body or ""
    size = len(raw.encode()) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise ApiProblem(413, f"the request body is {size} bytes; the limit is {max_bytes}")
    if media_type(event) not in accepted:
        raise ApiProblem(
            415,
            f"the request body must be {' or '.join(accepted)}",
            headers={"Accept-Patch" if MERGE_PATCH_JSON in accepted else "Accept-Post": ", ".join(accepted)},
        )
    try:
        body = exact_json.parse(raw)
    except exact_json.MalformedJson as error:
        raise ApiProblem(400, f"the request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "the request body must be a JSON object")
    return body


def etag(version: int) -> str:
    """The strong entity tag of a record version."""
    return f'"{version}"'


def if_match_versions(event: APIGatewayProxyEvent) -> list[int] | None:
    """Versions that If-Match allows (None: no condition). A tag that can never match yields [0]."""
    raw = header(event, "if-match")
    if raw is None or raw.strip() == "*":
        return None
    versions = [
        int(tag[1:-1])
        for tag in (part.strip() for part in raw.split(","))
        if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit()
    ]
    return versions or [0]  # versions start at 1: weak or malformed tags never match (RFC 9110)


def if_none_match(event: APIGatewayProxyEvent, version: int) -> bool:
    """Whether If-None-Match names this version (weak comparison, as RFC 9110 asks for GET)."""
    raw = header(event, "if-none-match")
    if raw is None:
        return False
    tags = {part.strip().removeprefix("W/") for part in raw.split(",")}
    return "*" in tags or etag(version) in tags


def record_location(event: APIGatewayProxyEvent, email: str, record_id: int) -> str:
    """The record's URL path as the client sees it (with the stage or base path, if any)."""
    seen = event.request_context.path or event.path
    prefix = seen[: -len(event.path)] if event.path != "/" and seen.endswith(event.path) else ""
    return f"{prefix}/records/{quote(email, safe='@+')}/{record_id}"
