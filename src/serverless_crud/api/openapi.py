"""The OpenAPI 3.1 document: the record's schemas as the server enforces them (models/schemas.json,
generated from the model and read by the request validator), and every status each operation
can answer. Built on first request for the instance's settings, then kept."""

from __future__ import annotations

from typing import Any

from serverless_crud import __version__, settings
from serverless_crud.api.idempotency import KEY_PATTERN
from serverless_crud.dal.listing import SORTS
from serverless_crud.logic.search import MAX_LIMIT, MAX_QUERY_LENGTH, MAX_TAG_LENGTH, MAX_TAGS
from serverless_crud.models.keys import MAX_ID
from serverless_crud.models.validation import schemas
from serverless_crud.models.values import NOT_BLANK

PROBLEM_TYPE_EXAMPLE = "urn:serverless-crud:problem:not-found"
_ERRORS = {
    "400": "Malformed JSON or text that is not UTF-8, an id or query parameter that is not a whole "
    "number in range, a bad cursor",
    "404": "No record has that key",
    "409": "A record with that key exists, the stored record breaks the record rules (see `errors`), or "
    "a request with the same Idempotency-Key is still being processed",
    "412": "If-Match did not match the record's ETag, or If-None-Match did",
    "413": "The body is over the size limit",
    "415": "Wrong Content-Type",
    "422": "Invalid fields (see `errors`), or an Idempotency-Key used with another body",
    "428": "This API requires If-Match on every change",
    "503": "DynamoDB throttled or unreachable; see Retry-After",
}
_STRING = {"schema": {"type": "string"}}
SORT_VALUES = [order for field in SORTS for order in (field, f"-{field}")]
#: RFC 9110 8.8.3: `entity-tag *( "," entity-tag )`, optional white space around the commas.
ENTITY_TAG_LIST = r'^[ \t]*(W/)?"[^",]*"([ \t]*,[ \t]*(W/)?"[^",]*")*[ \t]*$'


def _json(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    return {
        "content": {media_type: {"schema": schema} for media_type in media_types or ("application/json",)}
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    responses = {}
    for code in codes:
        response: dict[str, Any] = {
            "description": _ERRORS[code],
            **_json(_ref("Problem"), "application/problem+json"),
        }
        if code == "412":
            response["headers"] = {"ETag": {**_STRING, "description": "The record's current ETag."}}
        if code == "503":
            response["headers"] = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}}
        responses[code] = response
    return responses


def _record_ok(description: str, status: str = "200", **headers: Any) -> dict[str, Any]:
    return {
        status: {
            "description": description,
            "headers": {
                "ETag": {**_STRING, "description": "The record's version as an entity tag."},
                **headers,
            },
            **_json(_ref("Record")),
        }
    }


def _preconditions(required: bool) -> list[dict[str, Any]]:
    return [
        {
            "name": "If-Match",
            "in": "header",
            "required": required,
            # Required: a list of entity tags; anything else (`*`, empty, malformed) is 428.
            "schema": {"type": "string", "pattern": ENTITY_TAG_LIST} if required else {"type": "string"},
            "description": "The ETag read earlier: the change happens only if the record is still at it"
            + (" (required by this API)." if required else "."),
        },
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "`*` or ETags: the change fails with 412 if the record exists or is at one.",
        },
    ]


def _components() -> dict[str, Any]:
    components: dict[str, Any] = dict(schemas())
    components["RecordPage"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "next_cursor", "stopped_early"],
        "properties": {
            "items": {"type": "array", "items": _ref("Record")},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page."},
            "stopped_early": {
                "type": "boolean",
                "description": "The page's read budget ran out before `limit` items matched: "
                "`next_cursor` searches on.",
            },
        },
    }
    components["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri", "examples": [PROBLEM_TYPE_EXAMPLE]},
            "title": {"type": "string", "examples": ["Not Found"]},
            "status": {"type": "integer", "minimum": 400, "maximum": 599, "examples": [404]},
            "detail": {"type": "string", "examples": ["no record has that email and id"]},
            "errors": {
                "type": "array",
                "description": "The fields at fault (422, and 409 for a stored record).",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return components


@settings.per_settings
def openapi(current: settings.Settings) -> dict[str, Any]:
    """The API's OpenAPI document under these settings (REQUIRE_IF_MATCH changes it)."""
    required = current.require_if_match
    conditional = ("428",) if required else ()
    item = "/records/{email}/{id}"
    key_parameters = [
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
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "serverless-crud",
            "version": __version__,
            "description": "Records in DynamoDB behind API Gateway and Lambda.",
        },
        "paths": {
            "/records": {
                "get": {
                    "summary": "List, search, filter and sort records (one partition, or all)",
                    "description": "Every listing is a Query on the table or an index; see "
                    "docs/access-patterns.md for the reads each costs.",
                    "operationId": "listRecords",
                    "parameters": [
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
                            "description": "Words that name, notes, phone or tags must all contain "
                            "(case and accents ignored).",
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
                            "description": "Repeatable: a record has every tag given (case and accents "
                            "ignored).",
                        },
                        {
                            "name": "active",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["true", "false"]},
                        },
                        {
                            "name": "sort",
                            "in": "query",
                            "schema": {"type": "string", "enum": SORT_VALUES, "default": "id"},
                            "description": "The order; `-` for descending.",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 25},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "`next_cursor` of the previous page of the same listing (the "
                            "same parameters but `limit`; others are 400).",
                        },
                    ],
                    "responses": {
                        "200": {"description": "A page", **_json(_ref("RecordPage"))},
                        **_errors("400", "503"),
                    },
                },
                "post": {
                    "summary": "Create a record",
                    "operationId": "createRecord",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "schema": {"type": "string", "pattern": KEY_PATTERN},
                            "description": "A unique key per intended create: a repeat within 24 hours "
                            "returns the first response (with `Idempotent-Replayed: true`) instead of "
                            "creating another record.",
                        }
                    ],
                    "requestBody": {"required": True, **_json(_ref("RecordCreate"))},
                    "responses": {
                        **_record_ok(
                            "Created (or its replay)",
                            "201",
                            Location={**_STRING, "description": "The record's URL."},
                            **{
                                "Idempotent-Replayed": {
                                    "schema": {"type": "string", "const": "true"},
                                    "description": "This is the kept response of an earlier request "
                                    "with the same Idempotency-Key.",
                                }
                            },
                        ),
                        **_errors("400", "409", "413", "415", "422", "503"),
                    },
                },
            },
            item: {
                "parameters": key_parameters,
                "get": {
                    "summary": "Read a record",
                    "operationId": "getRecord",
                    "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
                    "responses": {
                        **_record_ok("The record"),
                        "304": {"description": "Not modified", "headers": {"ETag": _STRING}},
                        **_errors("400", "404", "409", "503"),
                    },
                },
                "put": {
                    "summary": "Replace a record's fields (never creates)",
                    "operationId": "replaceRecord",
                    "parameters": _preconditions(required),
                    "requestBody": {"required": True, **_json(_ref("RecordFields"))},
                    "responses": {
                        **_record_ok("Replaced"),
                        **_errors("400", "404", "409", "412", "413", "415", "422", *conditional, "503"),
                    },
                },
                "patch": {
                    "summary": "Change some fields (JSON Merge Patch, RFC 7396)",
                    "operationId": "patchRecord",
                    "parameters": _preconditions(required),
                    "requestBody": {
                        "required": True,
                        **_json(_ref("RecordPatch"), "application/merge-patch+json", "application/json"),
                    },
                    "responses": {
                        **_record_ok("Patched"),
                        **_errors("400", "404", "409", "412", "413", "415", "422", *conditional, "503"),
                    },
                },
                "delete": {
                    "summary": "Delete a record",
                    "operationId": "deleteRecord",
                    "parameters": _preconditions(required),
                    "responses": {
                        "204": {"description": "Deleted"},
                        **_errors("400", "404", "409", "412", *conditional, "503"),
                    },
                },
            },
            "/health": {
                "get": {
                    "summary": "Liveness",
                    "operationId": "health",
                    "responses": {
                        "200": {
                            "description": "Up",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["status"],
                                    "properties": {"status": {"const": "ok"}},
                                }
                            ),
                        }
                    },
                }
            },
        },
        "components": {"schemas": _components()},
    }
