"""The OpenAPI 3.1 document, derived from the record model (built on first request, then cached)."""

from __future__ import annotations

from functools import cache
from typing import Any

from serverless_crud import __version__

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_ERRORS = {
    "400": "Malformed JSON, a malformed key or query parameter, or a bad cursor",
    "404": "No record has that key",
    "409": "A record with that key exists",
    "412": "If-Match did not match the record's ETag",
    "413": "The body is over the size limit",
    "415": "Wrong Content-Type",
    "422": "Invalid fields (see `errors`)",
    "503": "DynamoDB throttled or unreachable; see Retry-After",
}


def _json(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    return {
        code: {"description": _ERRORS[code], **_json(_PROBLEM, "application/problem+json")} for code in codes
    }


def _record_ok(description: str, status: str = "200") -> dict[str, Any]:
    return {
        status: {
            "description": description,
            "headers": {"ETag": {"schema": {"type": "string"}}},
            **_json(_ref("Record")),
        }
    }


_KEY_PARAMETERS = [
    {"name": "email", "in": "path", "required": True, "schema": {"type": "string", "format": "email"}},
    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
]
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag read earlier: the write happens only if the record is still at it.",
}


def _schemas() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from serverless_crud.models.record import Record, RecordCreate, RecordFields, RecordPatch

    _, document = models_json_schema(
        [
            (Record, "serialization"),
            (RecordCreate, "validation"),
            (RecordFields, "validation"),
            (RecordPatch, "validation"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = document["$defs"]
    schemas["RecordPage"] = {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref("Record")},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page."},
        },
    }
    schemas["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return schemas


@cache
def openapi() -> dict[str, Any]:
    """The API's OpenAPI document."""
    item = "/records/{email}/{id}"
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
                    "summary": "List records (one partition ordered by id, or all)",
                    "operationId": "listRecords",
                    "parameters": [
                        {"name": "email", "in": "query", "schema": {"type": "string", "format": "email"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
                        },
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {"description": "A page", **_json(_ref("RecordPage"))},
                        **_errors("400", "503"),
                    },
                },
                "post": {
                    "summary": "Create a record",
                    "operationId": "createRecord",
                    "requestBody": {"required": True, **_json(_ref("RecordCreate"))},
                    "responses": {
                        **_record_ok("Created", "201"),
                        **_errors("400", "409", "413", "415", "422", "503"),
                    },
                },
            },
            item: {
                "parameters": _KEY_PARAMETERS,
                "get": {
                    "summary": "Read a record",
                    "operationId": "getRecord",
                    "parameters": [{"name": "If-None-Match", "in": "header", "schema": {"type": "string"}}],
                    "responses": {
                        **_record_ok("The record"),
                        "304": {"description": "Not modified"},
                        **_errors("400", "404", "503"),
                    },
                },
                "put": {
                    "summary": "Replace a record's fields (never creates)",
                    "operationId": "replaceRecord",
                    "parameters": [_IF_MATCH],
                    "requestBody": {"required": True, **_json(_ref("RecordFields"))},
                    "responses": {
                        **_record_ok("Replaced"),
                        **_errors("400", "404", "412", "413", "415", "422", "503"),
                    },
                },
                "patch": {
                    "summary": "Change some fields (JSON Merge Patch, RFC 7396)",
                    "operationId": "patchRecord",
                    "parameters": [_IF_MATCH],
                    "requestBody": {
                        "required": True,
                        **_json(_ref("RecordPatch"), "application/merge-patch+json"),
                    },
                    "responses": {
                        **_record_ok("Patched"),
                        **_errors("400", "404", "412", "413", "415", "422", "503"),
                    },
                },
                "delete": {
                    "summary": "Delete a record",
                    "operationId": "deleteRecord",
                    "parameters": [_IF_MATCH],
                    "responses": {"204": {"description": "Deleted"}, **_errors("400", "404", "412", "503")},
                },
            },
            "/health": {
                "get": {
                    "summary": "Liveness",
                    "operationId": "health",
                    "responses": {"200": {"description": "Up"}},
                }
            },
        },
        "components": {"schemas": _schemas()},
    }
