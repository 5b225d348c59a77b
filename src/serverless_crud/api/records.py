"""The records API: each route declared once with its handler; routes translate HTTP to the
use-cases of `logic` and back."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from serverless_crud import settings
from serverless_crud.api import idempotency, services
from serverless_crud.api.documentation import RECORD_PROBLEMS, STRING, body, content, record_ok, ref
from serverless_crud.api.http import (
    MERGE_PATCH_JSON,
    entity_tags,
    etag,
    header,
    json_body,
    preconditions,
    record_location,
)
from serverless_crud.api.identity import caller
from serverless_crud.api.listing import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_QUERY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    parse_listing,
    sorts,
)
from serverless_crud.api.responses import JSON, Response, json_response
from serverless_crud.api.routing import SIGNED_IN, Routes
from serverless_crud.models.fields import searched
from serverless_crud.models.keys import MAX_ID
from serverless_crud.models.preconditions import Expected
from serverless_crud.models.values import NOT_BLANK

routes = Routes(access=SIGNED_IN, problems=RECORD_PROBLEMS)
ITEM = "/records/{email}/{id}"
#: The key in an item's path.
KEY = (
    {
        "name": "email",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "The record's email as stored (as listed); another spelling of the same "
        "address also finds a record the API stored.",
    },
    {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    },
)
WRITE_ERRORS = ("400", "404", "409", "412", "413", "415", "422", "503")


def _searched_words() -> str:
    names = [f.name for f in searched()]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def _record_response(status: int, record: dict[str, Any], **headers: str) -> Response:
    return json_response(
        status, record, {"ETag": etag(record["version"]), "Cache-Control": "no-store", **headers}
    )


def _body(*accepted: str) -> dict[str, Any]:
    return json_body(routes.event, accepted, settings.current().max_body_bytes)


def expected_version() -> Expected:
    """The request's preconditions on the record's version (If-Match, If-None-Match)."""
    return preconditions(routes.event, require_if_match=settings.current().require_if_match)


@routes.route(
    "/records",
    "GET",
    operation_id="listRecords",
    summary="List, search, filter and sort records (one partition, or all)",
    description="Every listing is a Query on the table or an index; see docs/access-patterns.md for the "
    "reads each costs.",
    parameters=(
        {
            "name": "email",
            "in": "query",
            "schema": {"type": "string", "minLength": 1},
            "description": "Only this partition (the email as stored).",
        },
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
            "description": f"Words that {_searched_words()} must all contain (case and accents ignored).",
        },
        {
            "name": "tag",
            "in": "query",
            "style": "form",
            "explode": True,
            "schema": {
                "type": "array",
                "maxItems": MAX_TAGS,
                "items": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_TAG_LENGTH,
                    "pattern": NOT_BLANK,
                },
            },
            "description": "Repeatable: a record has every tag given (case and accents ignored).",
        },
        {"name": "active", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string", "enum": [o for f in sorts() for o in (f, f"-{f}")], "default": "id"},
            "description": "The order; `-` for descending.",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string"},
            "description": "`next_cursor` of the previous page of the same listing (the same parameters but "
            "`limit`; others are 400).",
        },
    ),
    responses={"200": {"description": "A page", **content(ref("RecordPage"))}},
    errors=("400", "503"),
    signed_in_errors=("401", "403"),
)
def list_records() -> Response:
    query = parse_listing(routes.event.multi_value_query_string_parameters or {})
    page = services.records().list(caller(routes.event), query)
    body = {"items": page.items, "next_cursor": page.next_cursor, "stopped_early": page.stopped_early}
    return json_response(200, body, {"Cache-Control": "no-store"})


@routes.route(
    "/records",
    "POST",
    operation_id="createRecord",
    summary="Create a record",
    parameters=(idempotency.KEY_PARAMETER,),
    body=body(ref("RecordCreate")),
    responses=record_ok(
        "Created (or its replay)",
        "201",
        Location={**STRING, "description": "The record's URL."},
        **{
            idempotency.REPLAY_HEADER: {
                "schema": {"type": "string", "const": "true"},
                "description": "This is the kept response of an earlier request with the same "
                "Idempotency-Key.",
            }
        },
    ),
    errors=("400", "409", "413", "415", "422", "503"),
    signed_in_errors=("401", "403"),
)
def create_record() -> Response:
    return idempotency.once(routes, "POST /records", _create)


def _create() -> Response:
    record = services.records().create(caller(routes.event), _body(JSON))
    location = record_location(routes.event, record["email"], record["id"])
    return _record_response(201, record, Location=location)


@routes.route(
    ITEM,
    "GET",
    operation_id="getRecord",
    summary="Read a record",
    path_parameters=KEY,
    parameters=({"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},),
    responses={
        **record_ok("The record"),
        "304": {"description": "Not modified", "headers": {"ETag": STRING}},
    },
    errors=("400", "404", "409", "503"),
)
def get_record(email: str, id: str) -> Response:
    record = services.records().get(caller(routes.event), unquote(email), unquote(id))
    tags = entity_tags(header(routes.event, "if-none-match"))
    if tags is not None and tags.matches_weakly(etag(record["version"])):
        return Response(status_code=304, body="", headers={"ETag": etag(record["version"])})
    return _record_response(200, record)


@routes.route(
    ITEM,
    "PUT",
    operation_id="replaceRecord",
    summary="Replace a record's fields (never creates)",
    path_parameters=KEY,
    body=body(ref("RecordFields")),
    responses=record_ok("Replaced"),
    errors=WRITE_ERRORS,
    preconditions=True,
)
def replace_record(email: str, id: str) -> Response:
    expected = expected_version()
    changes = _body(JSON)
    record = services.records().replace(caller(routes.event), unquote(email), unquote(id), changes, expected)
    return _record_response(200, record)


@routes.route(
    ITEM,
    "PATCH",
    operation_id="patchRecord",
    summary="Change some fields (JSON Merge Patch, RFC 7396)",
    path_parameters=KEY,
    body=body(ref("RecordPatch"), MERGE_PATCH_JSON, JSON),
    responses=record_ok("Patched"),
    errors=WRITE_ERRORS,
    preconditions=True,
)
def patch_record(email: str, id: str) -> Response:
    expected = expected_version()
    changes = _body(MERGE_PATCH_JSON, JSON)
    record = services.records().patch(caller(routes.event), unquote(email), unquote(id), changes, expected)
    return _record_response(200, record)


@routes.route(
    ITEM,
    "DELETE",
    operation_id="deleteRecord",
    summary="Delete a record",
    path_parameters=KEY,
    responses={"204": {"description": "Deleted"}},
    errors=("400", "404", "409", "412", "503"),
    preconditions=True,
)
def delete_record(email: str, id: str) -> Response:
    services.records().delete(caller(routes.event), unquote(email), unquote(id), expected_version())
    return Response(status_code=204, body="")
