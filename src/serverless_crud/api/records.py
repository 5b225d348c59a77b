"""The records API: routes translate HTTP to the use-cases of `logic` and back."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response

from serverless_crud import settings
from serverless_crud.api import idempotency, services
from serverless_crud.api.http import (
    JSON,
    MERGE_PATCH_JSON,
    entity_tags,
    etag,
    header,
    json_body,
    preconditions,
    record_location,
)
from serverless_crud.api.identity import caller
from serverless_crud.api.listing import parse_listing
from serverless_crud.api.responses import json_response
from serverless_crud.api.routing import Routes
from serverless_crud.models.preconditions import Expected

routes = Routes()
ITEM = "/records/<email>/<record_id>"


def _record_response(status: int, record: dict[str, Any], **headers: str) -> Response[str]:
    return json_response(
        status, record, {"ETag": etag(record["version"]), "Cache-Control": "no-store", **headers}
    )


def _body(*accepted: str) -> dict[str, Any]:
    return json_body(routes.event, accepted, settings.current().max_body_bytes)


def _expected() -> Expected:
    return preconditions(routes.event, require_if_match=settings.current().require_if_match)


@routes.route("/records", "GET")
def list_records() -> Response[str]:
    query = parse_listing(routes.event.multi_value_query_string_parameters or {})
    page = services.records().list(caller(routes.event), query)
    body = {"items": page.items, "next_cursor": page.next_cursor, "stopped_early": page.stopped_early}
    return json_response(200, body, {"Cache-Control": "no-store"})


@routes.route("/records", "POST")
def create_record() -> Response[str]:
    return idempotency.once(routes, "POST /records", _create)


def _create() -> Response[str]:
    record = services.records().create(caller(routes.event), _body(JSON))
    location = record_location(routes.event, record["email"], record["id"])
    return _record_response(201, record, Location=location)


@routes.route(ITEM, "GET")
def get_record(email: str, record_id: str) -> Response[str]:
    record = services.records().get(caller(routes.event), unquote(email), unquote(record_id))
    tags = entity_tags(header(routes.event, "if-none-match"))
    if tags is not None and tags.matches_weakly(etag(record["version"])):
        return Response(status_code=304, body="", headers={"ETag": etag(record["version"])})
    return _record_response(200, record)


@routes.route(ITEM, "PUT")
def replace_record(email: str, record_id: str) -> Response[str]:
    expected = _expected()
    body = _body(JSON)
    return _record_response(
        200,
        services.records().replace(caller(routes.event), unquote(email), unquote(record_id), body, expected),
    )


@routes.route(ITEM, "PATCH")
def patch_record(email: str, record_id: str) -> Response[str]:
    expected = _expected()
    body = _body(MERGE_PATCH_JSON, JSON)
    return _record_response(
        200,
        services.records().patch(caller(routes.event), unquote(email), unquote(record_id), body, expected),
    )


@routes.route(ITEM, "DELETE")
def delete_record(email: str, record_id: str) -> Response[str]:
    services.records().delete(caller(routes.event), unquote(email), unquote(record_id), _expected())
    return Response(status_code=204, body="")
