"""The REST API: Powertools' APIGatewayRestResolver, the record routes and error mapping.

Route functions only translate HTTP to use-cases and back; the rules live in `logic`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from serverless_crud import errors
from serverless_crud.api import exact_json
from serverless_crud.api.http import (
    JSON,
    MERGE_PATCH_JSON,
    etag,
    if_match_versions,
    if_none_match,
    json_body,
    record_location,
)
from serverless_crud.api.problems import ApiProblem, problem_response
from serverless_crud.logic.service import record_service
from serverless_crud.observability import logger
from serverless_crud.settings import get_settings

RETRY_AFTER_SECONDS = "2"
EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "Allow"]


def _cors() -> CORSConfig:
    first, *others = get_settings().allowed_origins
    return CORSConfig(
        allow_origin=first,
        extra_origins=others,
        allow_headers=["If-Match", "If-None-Match"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )


app = APIGatewayRestResolver(cors=_cors())

#: Every route's methods, for 405 and its Allow header (Powertools answers 404 to a wrong method).
_ALLOWED: dict[re.Pattern[str], set[str]] = {}


def route(rule: str, methods: list[str]) -> Any:
    """Register a route on the resolver and remember its methods (GET implies HEAD)."""
    pattern = re.compile("^" + re.sub(r"<\w+>", "[^/]+", rule) + "/*$")
    _ALLOWED.setdefault(pattern, set()).update(methods, ["HEAD"] if "GET" in methods else [])
    return app.route(rule, method=methods)


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one REST proxy event; HEAD is answered as GET without the body (RFC 9110)."""
    head = event.get("httpMethod") == "HEAD"
    response = app.resolve({**event, "httpMethod": "GET"} if head else event, context)
    if "*" not in get_settings().allowed_origins:
        # The CORS headers depend on the request's Origin: shared caches must not mix them up.
        response.setdefault("multiValueHeaders", {}).setdefault("Vary", []).append("Origin")
    return {**response, "body": "", "isBase64Encoded": False} if head else response


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON response whose numbers are exact."""
    return Response(status_code=status, content_type=JSON, body=exact_json.dumps(value), headers=headers)


def _record_response(status: int, record: dict[str, Any], **headers: str) -> Response[str]:
    return json_response(
        status, record, {"ETag": etag(record["version"]), "Cache-Control": "no-store", **headers}
    )


def _body(*accepted: str) -> dict[str, Any]:
    return json_body(app.current_event, accepted, get_settings().max_body_bytes)


# -- routes ----------------------------------------------------------------------------------------
@route("/health", ["GET"])
def health() -> Response[str]:
    return json_response(200, {"status": "ok"}, {"Cache-Control": "no-store"})


@route("/records", ["GET"])
def list_records() -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    page = record_service().list(query.get("email"), query.get("limit"), query.get("cursor"))
    return json_response(
        200, {"items": page.items, "next_cursor": page.next_cursor}, {"Cache-Control": "no-store"}
    )


@route("/records", ["POST"])
def create_record() -> Response[str]:
    record = record_service().create(_body(JSON))
    location = record_location(app.current_event, record["email"], record["id"])
    return _record_response(201, record, Location=location)


@route("/records/<email>/<record_id>", ["GET"])
def get_record(email: str, record_id: str) -> Response[str]:
    record = record_service().get(unquote(email), unquote(record_id))
    if if_none_match(app.current_event, record["version"]):
        return Response(status_code=304, body="", headers={"ETag": etag(record["version"])})
    return _record_response(200, record)


@route("/records/<email>/<record_id>", ["PUT"])
def replace_record(email: str, record_id: str) -> Response[str]:
    body = _body(JSON)
    versions = if_match_versions(app.current_event)
    return _record_response(200, record_service().replace(unquote(email), unquote(record_id), body, versions))


@route("/records/<email>/<record_id>", ["PATCH"])
def patch_record(email: str, record_id: str) -> Response[str]:
    body = _body(MERGE_PATCH_JSON, JSON)
    versions = if_match_versions(app.current_event)
    return _record_response(200, record_service().patch(unquote(email), unquote(record_id), body, versions))


@route("/records/<email>/<record_id>", ["DELETE"])
def delete_record(email: str, record_id: str) -> Response[str]:
    record_service().delete(unquote(email), unquote(record_id), if_match_versions(app.current_event))
    return Response(status_code=204, body="")


@route("/openapi.json", ["GET"])
def openapi_document() -> Response[str]:
    from serverless_crud.api.openapi import openapi

    return json_response(200, openapi(), {"Cache-Control": "public, max-age=300"})


# -- errors ----------------------------------------------------------------------------------------
@app.not_found
def not_found(_: NotFoundError) -> Response[str]:
    path = app.current_event.path
    allowed = set().union(*(methods for pattern, methods in _ALLOWED.items() if pattern.match(path)))
    if allowed:
        allow = ", ".join(sorted(allowed | {"OPTIONS"}))
        detail = f"{app.current_event.http_method} is not allowed here; use {allow}"
        return problem_response(405, detail, headers={"Allow": allow})
    return problem_response(404, f"nothing is at {path}")


@app.exception_handler(ApiProblem)
def api_problem(error: ApiProblem) -> Response[str]:
    return problem_response(error.status, error.detail, headers=error.headers)


@app.exception_handler(errors.InvalidInput)
def invalid_input(error: errors.InvalidInput) -> Response[str]:
    fields = [{"field": e.field, "message": e.message} for e in error.errors]
    return problem_response(422, "the record has invalid fields", errors=fields)


@app.exception_handler([errors.InvalidParameter, errors.InvalidCursor])
def bad_parameter(error: errors.DomainError) -> Response[str]:
    return problem_response(400, str(error))


@app.exception_handler(errors.RecordNotFound)
def record_not_found(error: errors.RecordNotFound) -> Response[str]:
    return problem_response(404, str(error))


@app.exception_handler(errors.RecordExists)
def record_exists(error: errors.RecordExists) -> Response[str]:
    return problem_response(409, str(error))


@app.exception_handler(errors.VersionMismatch)
def version_mismatch(error: errors.VersionMismatch) -> Response[str]:
    detail = f"the record changed since you read it: it is now at version {error.current_version}"
    return problem_response(412, detail, headers={"ETag": etag(error.current_version)})


@app.exception_handler(errors.StoreUnavailable)
def store_unavailable(error: errors.StoreUnavailable) -> Response[str]:
    logger.warning("DynamoDB unavailable", extra={"reason": str(error)})
    detail = "the database is busy or unreachable; retry shortly"
    return problem_response(503, detail, headers={"Retry-After": RETRY_AFTER_SECONDS})


@app.exception_handler(Exception)
def unexpected(error: Exception) -> Response[str]:
    logger.exception("unhandled error")
    return problem_response(500, "an unexpected error occurred; it has been logged")


from serverless_crud.api import ui  # noqa: E402, F401  (registers the web UI routes)
