"""The history API: a record's versions, one version as it was, restoring a version, and the
recently deleted records with their restoration (docs/history.md). The access rules are the
record's: its owner and admins; another owner's history is 404, as the record is."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from serverless_crud.api import services
from serverless_crud.api.documentation import RECORD_PROBLEMS, content, record_ok, ref
from serverless_crud.api.http import etag, record_location
from serverless_crud.api.identity import caller
from serverless_crud.api.listing import DEFAULT_LIMIT, MAX_LIMIT, parse_limit
from serverless_crud.api.records import ITEM, KEY, expected_version
from serverless_crud.api.responses import Response, json_response
from serverless_crud.api.routing import SIGNED_IN, Routes
from serverless_crud.errors import InvalidParameter
from serverless_crud.models.history import EntryPage

HISTORY_PROBLEMS = {
    **RECORD_PROBLEMS,
    "404": "No record has that key (or it is another owner's), or its history has no such version",
    "409": "The key is in use again (restore a version of the record instead), or the stored record "
    "breaks the record rules",
    "422": "The version's values break today's record rules (see `errors`)",
    "503": "DynamoDB throttled or unreachable, or history is not configured; see Retry-After",
}
routes = Routes(access=SIGNED_IN, problems=HISTORY_PROBLEMS)
#: The largest version the history keeps in order (12 digits).
MAX_VERSION = 999_999_999_999
VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
    "description": "A version of the record, as its history lists it.",
}
PAGE_PARAMETERS = (
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    },
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string"},
        "description": "`next_cursor` of the previous page of the same listing.",
    },
)
NO_STORE = {"Cache-Control": "no-store"}


def _page_of(page: EntryPage, detail: bool = False) -> dict[str, Any]:
    return {
        "items": [entry.detail() if detail else entry.summary() for entry in page.items],
        "next_cursor": page.next_cursor,
    }


def _query(name: str) -> str | None:
    values = (routes.event.multi_value_query_string_parameters or {}).get(name) or []
    if len(values) > 1:
        raise InvalidParameter(f"{name} may be given once")
    return values[0] if values else None


def _restored(record: dict[str, Any]) -> Response:
    return json_response(200, record, {"ETag": etag(record["version"]), **NO_STORE})


@routes.route(
    f"{ITEM}/history",
    "GET",
    operation_id="listRecordHistory",
    summary="A record's versions, newest first: when, who, how, and what each changed",
    path_parameters=KEY,
    parameters=PAGE_PARAMETERS,
    responses={"200": {"description": "A page of versions", **content(ref("HistoryPage"))}},
    errors=("400", "404", "503"),
)
def list_history(email: str, id: str) -> Response:
    page = services.history().versions(
        caller(routes.event), unquote(email), unquote(id), parse_limit(_query("limit")), _query("cursor")
    )
    return json_response(200, _page_of(page), NO_STORE)


@routes.route(
    f"{ITEM}/history/{{version}}",
    "GET",
    operation_id="getRecordVersion",
    summary="One version of a record: the whole record as it was",
    path_parameters=(*KEY, VERSION),
    responses={"200": {"description": "The version", **content(ref("HistoryVersion"))}},
    errors=("400", "404", "503"),
)
def get_version(email: str, id: str, version: str) -> Response:
    entry = services.history().version(caller(routes.event), unquote(email), unquote(id), unquote(version))
    return json_response(200, entry.detail(), NO_STORE)


@routes.route(
    f"{ITEM}/history/{{version}}/restore",
    "POST",
    operation_id="restoreRecordVersion",
    summary="Write a version's values as the record's next version (a deleted record is created again)",
    path_parameters=(*KEY, VERSION),
    responses=record_ok("Restored: the record as it is now"),
    errors=("400", "404", "409", "412", "422", "503"),
    preconditions=True,
)
def restore_version(email: str, id: str, version: str) -> Response:
    record = services.history().restore_version(
        caller(routes.event), unquote(email), unquote(id), unquote(version), expected_version()
    )
    return _restored(record)


@routes.route(
    "/deleted",
    "GET",
    operation_id="listDeletedRecords",
    summary="Records deleted within the history's retention, newest deletion first: who and when",
    parameters=(
        {
            "name": "email",
            "in": "query",
            "schema": {"type": "string", "minLength": 1},
            "description": "The owner (yours by default; without it, an admin lists every owner's).",
        },
        *PAGE_PARAMETERS,
    ),
    responses={"200": {"description": "A page of deleted records", **content(ref("DeletedPage"))}},
    errors=("400", "503"),
    signed_in_errors=("401", "403"),
)
def list_deleted() -> Response:
    email = _query("email")
    if email == "":
        raise InvalidParameter("email must name an owner (leave it out for your own)")
    page = services.history().deleted(
        caller(routes.event), email, parse_limit(_query("limit")), _query("cursor")
    )
    return json_response(200, _page_of(page, detail=True), NO_STORE)


@routes.route(
    "/deleted/{email}/{id}/restore",
    "POST",
    operation_id="restoreDeletedRecord",
    summary="Create a deleted record again with its last values, continuing its version sequence",
    path_parameters=KEY,
    responses=record_ok("Restored", "201"),
    errors=("400", "404", "409", "422", "503"),
)
def restore_deleted(email: str, id: str) -> Response:
    record = services.history().restore_deleted(caller(routes.event), unquote(email), unquote(id))
    location = record_location(routes.event, record["email"], record["id"])
    return json_response(201, record, {"ETag": etag(record["version"]), "Location": location, **NO_STORE})
