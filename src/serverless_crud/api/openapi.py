"""The OpenAPI 3.1 document, made from the route declarations (api/routing.py) and the record's
schemas as the server enforces them (models/schemas.json, generated from the model and read by the
request validator): every operation, every status it can answer. Built on first request for the
instance's settings (sign-in and REQUIRE_IF_MATCH change it), then kept."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from serverless_crud import __version__, settings
from serverless_crud.api.documentation import precondition_headers, problems, ref
from serverless_crud.api.routing import SIGNED_IN, Route
from serverless_crud.models.fields import schemas
from serverless_crud.models.history import HOWS

PROBLEM_TYPE_EXAMPLE = "urn:serverless-crud:problem:not-found"
#: The document built last, and the settings it was built for.
_built: list[Any] = [None, None]


def openapi(routes: list[Route]) -> dict[str, Any]:
    """The document of `routes` (the API's, which never change) under the instance's settings."""
    current = settings.current()
    if _built[0] is not current:
        _built[:] = [current, document(routes, current)]
    built: dict[str, Any] = _built[1]
    return built


def document(routes: Iterable[Route], current: settings.Settings) -> dict[str, Any]:
    """The document of the documented routes (those with an operation id) under these settings."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if route.operation_id:
            item = paths.setdefault(route.path, {})
            if route.path_parameters:
                item["parameters"] = list(route.path_parameters)
            item[route.method.lower()] = _operation(route, current)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "serverless-crud",
            "version": __version__,
            "description": "Records in DynamoDB behind API Gateway and Lambda.",
        },
        "paths": {path: _path_first(item) for path, item in paths.items()},
        "components": {"schemas": _components()},
    }
    if current.signs_in:
        document["components"]["securitySchemes"] = {
            "cognito": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "An ID token of the user pool (`serverless-crud token EMAIL`), raw or as "
                "`Bearer <token>`.",
            }
        }
    return document


def _path_first(item: dict[str, Any]) -> dict[str, Any]:
    """A path item with its shared parameters first, as people read it."""
    return {**({"parameters": item["parameters"]} if "parameters" in item else {}), **item}


def _operation(route: Route, current: settings.Settings) -> dict[str, Any]:
    errors = list(route.errors)
    parameters = list(route.parameters)
    if route.preconditions:
        parameters += precondition_headers(current.require_if_match)
        if current.require_if_match:
            errors.insert(len(errors) - 1 if errors and errors[-1] == "503" else len(errors), "428")
    operation: dict[str, Any] = {"summary": route.summary, "operationId": route.operation_id}
    if route.description:
        operation["description"] = route.description
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = dict(route.body(current) if callable(route.body) else route.body)
    signed_in = current.signs_in and route.access == SIGNED_IN
    if signed_in:
        operation["security"] = [{"cognito": []}]
        errors += [code for code in route.signed_in_errors if code not in errors]
    operation["responses"] = {**route.responses, **problems(tuple(errors), dict(route.problems))}
    return operation


def _components() -> dict[str, Any]:
    components: dict[str, Any] = dict(schemas())
    components["RecordPage"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "next_cursor", "stopped_early"],
        "properties": {
            "items": {"type": "array", "items": ref("Record")},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page."},
            "stopped_early": {
                "type": "boolean",
                "description": "The page's read budget ran out before `limit` items matched: "
                "`next_cursor` searches on.",
            },
        },
    }
    components.update(_history_schemas())
    components["Job"] = _job_schema()
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


def _job_schema() -> dict[str, Any]:
    field_error = {
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    }
    return {
        "type": "object",
        "required": ["id", "kind", "status", "counts", "rejected", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["import", "export", "erasure"]},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "counts": {
                "type": "object",
                "description": "Imports: rows, written, unchanged, rejected (and failed, when chunks "
                "failed within the tolerated share); exports: records; erasures: records, erased, left.",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "rejected": {
                "type": "array",
                "description": "Rejected rows by line (the first 1,000).",
                "items": {
                    "type": "object",
                    "required": ["line", "errors"],
                    "properties": {
                        "line": {"type": "integer", "minimum": 1},
                        "errors": {"type": "array", "items": field_error},
                    },
                },
            },
            "download_url": {"type": "string", "description": "Exports: a link valid for 15 minutes."},
            "report_url": {
                "type": "string",
                "description": "Imports with rejected rows: the CSV of every one (line, field, message), "
                "a link valid for 15 minutes.",
            },
            "failure": {"type": "string", "description": "Why a failed job failed."},
            "format": {"type": "string", "enum": ["csv", "jsonl"]},
            "mode": {"type": "string", "enum": ["create", "upsert"]},
            "email": {"type": "string"},
            "created_at": {"type": "string"},
            "updated_at": {"type": "string"},
        },
    }


def _history_schemas() -> dict[str, Any]:
    """A history entry, a version with its record, and their pages."""
    value: dict[str, Any] = {"description": "The field's value (null: empty)."}
    required = ["version", "at", "by", "by_email", "how", "changes"]
    properties: dict[str, Any] = {
        "version": {"type": "integer", "minimum": 1},
        "at": {"type": "string", "format": "date-time", "description": "When the change was made."},
        "by": {
            "type": "string",
            "description": "The user id (Cognito sub) who made it; `unknown` for a write without one.",
        },
        "by_email": {
            "type": ["string", "null"],
            "description": "Their email, when the record carried it.",
        },
        "how": {"type": "string", "enum": list(HOWS)},
        "changes": {
            "type": "array",
            "description": "Each field the change set to another value (none for a deletion).",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["field", "from", "to"],
                "properties": {"field": {"type": "string"}, "from": value, "to": value},
            },
        },
    }
    entry = {"type": "object", "additionalProperties": False, "required": required, "properties": properties}
    version = {
        **entry,
        "required": [*required, "record"],
        "properties": {
            **properties,
            "record": {
                "type": "object",
                "description": "The record's fields as they were (before the change, for a deletion).",
            },
        },
    }

    def page(items: str) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": ref(items)},
                "next_cursor": {
                    "type": ["string", "null"],
                    "description": "Pass as `cursor` for the next page.",
                },
            },
        }

    return {
        "HistoryEntry": entry,
        "HistoryVersion": version,
        "HistoryPage": page("HistoryEntry"),
        "DeletedPage": page("HistoryVersion"),
    }
