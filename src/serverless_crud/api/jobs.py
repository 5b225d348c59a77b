"""The jobs API: start an import, an export or an erasure (202 + Location), read jobs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.event_handler import Response

from serverless_crud import settings
from serverless_crud.api import idempotency
from serverless_crud.api.http import JSON, body_bytes, json_body, location, media_type
from serverless_crud.api.identity import caller
from serverless_crud.api.problems import ApiProblem
from serverless_crud.api.responses import json_response
from serverless_crud.api.routing import Routes
from serverless_crud.logic import tabular
from serverless_crud.logic.jobs import MODES
from serverless_crud.logic.service import job_service

routes = Routes()
FILE_TYPES = (tabular.CSV, tabular.JSON_LINES)


def _accepted(job: dict[str, Any]) -> Response[str]:
    view = job_service().get(caller(routes.event), job["id"])
    return json_response(
        202, view, {"Location": location(routes.event, f"/jobs/{job['id']}"), "Cache-Control": "no-store"}
    )


def _json() -> dict[str, Any]:
    return json_body(routes.event, (JSON,), settings.current().max_body_bytes)


def _text_member(body: dict[str, Any], name: str, choices: tuple[str, ...] | None = None) -> str | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str) or not value or (choices is not None and value not in choices):
        expected = " or ".join(f'"{c}"' for c in choices) if choices else "a non-empty string"
        raise ApiProblem(422, f"{name} must be {expected}")
    return value


@routes.route("/imports/uploads", "POST")
def start_upload() -> Response[str]:
    body = _json()
    size = _whole_number(body["size"]) if "size" in body else None
    if set(body) - {"format", "size"} or size == 0:
        raise ApiProblem(422, 'an upload request is {"format": "csv" | "jsonl", "size": bytes (optional)}')
    fmt = _text_member(body, "format", tuple(tabular.FORMATS)) or "csv"
    return json_response(
        201, job_service().upload_for(caller(routes.event), fmt, size), {"Cache-Control": "no-store"}
    )


def _whole_number(value: Any) -> int:
    """A JSON number that is a whole number of at least 1 (`265` or `265.0`), else 0."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return 0
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        return 0
    return max(int(value), 0)


@routes.route("/imports", "POST")
def start_import() -> Response[str]:
    return idempotency.once(routes, "POST /imports", _start_import)


def _start_import() -> Response[str]:
    limit = settings.current().max_body_bytes
    mode = (routes.event.query_string_parameters or {}).get("mode", "create")
    if mode not in MODES:
        raise ApiProblem(400, 'mode must be "create" or "upsert"')
    if media_type(routes.event) == JSON:
        # A file uploaded to the presigned URL of POST /imports/uploads.
        body = _json()
        if set(body) - {"upload", "format"} or not isinstance(body.get("upload"), str):
            raise ApiProblem(422, 'an import of an upload is {"upload": "...", "format": "csv" | "jsonl"}')
        fmt = _text_member(body, "format", tuple(tabular.FORMATS)) or "csv"
        return _accepted(job_service().start_uploaded_import(caller(routes.event), body["upload"], fmt, mode))
    data = body_bytes(routes.event)
    if len(data) > limit:
        raise ApiProblem(413, f"the file is {len(data)} bytes; the limit is {limit}")
    kind = media_type(routes.event)
    if kind not in FILE_TYPES:
        raise ApiProblem(
            415,
            f"the file must be {' or '.join(FILE_TYPES)} (or JSON naming an upload)",
            headers={"Accept-Post": ", ".join((*FILE_TYPES, JSON))},
        )
    return _accepted(job_service().start_import(caller(routes.event), data, kind, mode))


@routes.route("/exports", "POST")
def start_export() -> Response[str]:
    body = _json()
    unknown = sorted(set(body) - {"format", "email"})
    if unknown:
        raise ApiProblem(422, f"{unknown[0]} is not a member of an export request (format, email)")
    fmt = _text_member(body, "format", tuple(tabular.FORMATS)) or "csv"
    email = _text_member(body, "email")
    return _accepted(job_service().start_export(caller(routes.event), fmt, email))


@routes.route("/erasures", "POST")
def start_erasure() -> Response[str]:
    body = _json()
    email = _text_member(body, "email")
    if not email or set(body) != {"email"}:
        raise ApiProblem(422, 'an erasure request is {"email": "..."}, naming the partition to erase')
    return _accepted(job_service().start_erasure(caller(routes.event), email))


@routes.route("/jobs", "GET")
def list_jobs() -> Response[str]:
    return json_response(
        200, {"items": job_service().list(caller(routes.event))}, {"Cache-Control": "no-store"}
    )


@routes.route("/jobs/<job_id>", "GET")
def get_job(job_id: str) -> Response[str]:
    return json_response(200, job_service().get(caller(routes.event), job_id), {"Cache-Control": "no-store"})
