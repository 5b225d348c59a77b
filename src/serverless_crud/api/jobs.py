"""The jobs API: start an import, an export or an erasure (202 + Location), read jobs. Each route is
declared once, with its handler."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from serverless_crud import settings
from serverless_crud.api import idempotency, services
from serverless_crud.api.documentation import JOB_PROBLEMS, STRING, body, content, ref
from serverless_crud.api.http import body_bytes, json_body, location, media_type
from serverless_crud.api.identity import caller
from serverless_crud.api.problems import ApiProblem
from serverless_crud.api.responses import JSON, Response, json_response
from serverless_crud.api.routing import SIGNED_IN, Routes
from serverless_crud.logic import tabular
from serverless_crud.logic.jobs import MODES
from serverless_crud.models.fields import fields, schemas

routes = Routes(access=SIGNED_IN, problems=JOB_PROBLEMS)
FILE_TYPES = (tabular.CSV, tabular.JSON_LINES)
FORMAT = {"type": "string", "enum": list(tabular.FORMATS), "default": "csv"}
#: What a job started with a JSON body may answer besides 202.
JSON_JOB_ERRORS = ("400", "403", "413", "415", "422", "503")
STARTED = {
    "202": {
        "description": "Started: follow Location (GET /jobs/{id}) until the status is succeeded or failed",
        "headers": {"Location": {**STRING, "description": "The job's URL."}},
        **content(ref("Job")),
    }
}
EMAIL = {**schemas()["RecordCreate"]["properties"]["email"], "description": "A partition (an email key)."}


def _import_description() -> str:
    lists = [f.name for f in fields() if f.kind == "array"]
    flags = [f.name for f in fields() if f.kind == "boolean"]
    return (
        "CSV: a header naming record fields (email required; the server's fields "
        f"{', '.join(f.name for f in fields() if f.server)} are ignored), one record per row; "
        f"an empty cell is an absent field, {_names(lists)} items are separated by "
        f"`{tabular.TAG_SEPARATOR}`, "
        f"{_names(flags)} is true or false, numbers are exact. JSON Lines: one record object per line. "
        "A row without an id gets one derived from the file and its line (the same file twice writes "
        "the same keys); a row whose key exists is rejected as `exists` unless mode=upsert, and one "
        "whose record already holds the same values is counted `unchanged`. A text cell that begins "
        "with ' followed by =, +, -, @, a tab, a carriage return or ' loses the ' (exports write it so "
        "that spreadsheets do not run formulas)."
    )


def _names(names: list[str]) -> str:
    return " and ".join(f"`{n}`" for n in names) or "none"


def _accepted(job: dict[str, Any]) -> Response:
    view = services.jobs().get(caller(routes.event), job["id"])
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


def _upload_request(current: settings.Settings) -> dict[str, Any]:
    """The body of POST /imports/uploads: its `size` is at most the import size limit."""
    size = {
        "type": "integer",
        "minimum": 1,
        "maximum": current.max_import_bytes,
        "description": "The file's size in bytes (MaxImportBytes at most: a bigger one is 413 now).",
    }
    return body(
        {"type": "object", "additionalProperties": False, "properties": {"format": FORMAT, "size": size}}
    )


@routes.route(
    "/imports/uploads",
    "POST",
    operation_id="startUpload",
    summary="A presigned upload for a file over the body limit (then POST /imports naming it)",
    body=_upload_request,
    responses={
        "201": {
            "description": "POST the file to upload_url as a multipart/form-data form: the "
            "upload_fields, then the file as `file` (S3 refuses one over max_bytes); then "
            'POST /imports {"upload": upload, "format": format}',
            **content(
                {
                    "type": "object",
                    "required": [
                        "upload",
                        "format",
                        "upload_url",
                        "upload_fields",
                        "content_type",
                        "max_bytes",
                        "expires_in",
                    ],
                    "properties": {
                        "upload": {"type": "string"},
                        "format": {"type": "string", "enum": list(tabular.FORMATS)},
                        "upload_url": {"type": "string"},
                        "upload_fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        "content_type": {"type": "string"},
                        "max_bytes": {"type": "integer"},
                        "expires_in": {"type": "integer"},
                    },
                }
            ),
        }
    },
    errors=("400", "413", "415", "422", "503"),
)
def start_upload() -> Response:
    body = _json()
    size = _whole_number(body["size"]) if "size" in body else None
    if set(body) - {"format", "size"} or size == 0:
        raise ApiProblem(422, 'an upload request is {"format": "csv" | "jsonl", "size": bytes (optional)}')
    fmt = _text_member(body, "format", tuple(tabular.FORMATS)) or "csv"
    return json_response(
        201, services.jobs().upload_for(caller(routes.event), fmt, size), {"Cache-Control": "no-store"}
    )


def _whole_number(value: Any) -> int:
    """A JSON number that is a whole number of at least 1 (`265` or `265.0`), else 0."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return 0
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        return 0
    return max(int(value), 0)


@routes.route(
    "/imports",
    "POST",
    operation_id="startImport",
    summary="Import a CSV or JSON Lines file of records",
    description=_import_description(),
    parameters=(
        {
            "name": "mode",
            "in": "query",
            "schema": {"type": "string", "enum": list(MODES), "default": "create"},
        },
        idempotency.KEY_PARAMETER,
    ),
    body={
        "required": True,
        "content": {
            tabular.CSV: STRING,
            tabular.JSON_LINES: STRING,
            JSON: {
                "schema": {
                    "type": "object",
                    "description": "A file uploaded through POST /imports/uploads.",
                    "additionalProperties": False,
                    "required": ["upload"],
                    "properties": {
                        "upload": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                        "format": FORMAT,
                    },
                }
            },
        },
    },
    responses=STARTED,
    errors=("400", "409", "413", "415", "422", "503"),
)
def start_import() -> Response:
    return idempotency.once(routes, "POST /imports", _start_import)


def _start_import() -> Response:
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
        return _accepted(
            services.jobs().start_uploaded_import(caller(routes.event), body["upload"], fmt, mode)
        )
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
    return _accepted(services.jobs().start_import(caller(routes.event), data, kind, mode))


@routes.route(
    "/exports",
    "POST",
    operation_id="startExport",
    summary="Export the records the caller may see (or one partition's) to a file",
    parameters=(
        {
            "name": "include",
            "in": "query",
            "schema": {"type": "string", "enum": ["history"]},
            "description": "`history`: each record with every version its history keeps (JSON Lines only: "
            "a `history` member per record, newest first).",
        },
    ),
    body=body(
        {"type": "object", "additionalProperties": False, "properties": {"format": FORMAT, "email": EMAIL}}
    ),
    responses=STARTED,
    errors=JSON_JOB_ERRORS,
)
def start_export() -> Response:
    body = _json()
    unknown = sorted(set(body) - {"format", "email"})
    if unknown:
        raise ApiProblem(422, f"{unknown[0]} is not a member of an export request (format, email)")
    fmt = _text_member(body, "format", tuple(tabular.FORMATS)) or "csv"
    email = _text_member(body, "email")
    include = (routes.event.query_string_parameters or {}).get("include")
    if include not in (None, "history"):
        raise ApiProblem(400, 'include must be "history"')
    if include and fmt != "jsonl":
        raise ApiProblem(422, 'history is exported in JSON Lines only: "format": "jsonl"')
    job = services.jobs().start_export(caller(routes.event), fmt, email, with_history=bool(include))
    return _accepted(job)


@routes.route(
    "/erasures",
    "POST",
    operation_id="startErasure",
    summary="Erase every record of one partition",
    body=body(
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["email"],
            "properties": {"email": EMAIL},
        }
    ),
    responses=STARTED,
    errors=JSON_JOB_ERRORS,
)
def start_erasure() -> Response:
    body = _json()
    email = _text_member(body, "email")
    if not email or set(body) != {"email"}:
        raise ApiProblem(422, 'an erasure request is {"email": "..."}, naming the partition to erase')
    return _accepted(services.jobs().start_erasure(caller(routes.event), email))


@routes.route(
    "/jobs",
    "GET",
    operation_id="listJobs",
    summary="The caller's jobs, newest first",
    responses={
        "200": {
            "description": "The jobs",
            **content(
                {
                    "type": "object",
                    "required": ["items"],
                    "properties": {"items": {"type": "array", "items": ref("Job")}},
                }
            ),
        }
    },
    errors=("503",),
)
def list_jobs() -> Response:
    return json_response(
        200, {"items": services.jobs().list(caller(routes.event))}, {"Cache-Control": "no-store"}
    )


@routes.route(
    "/jobs/{id}",
    "GET",
    operation_id="getJob",
    summary="One job: its status, counts, rejected rows and (exports) download link",
    path_parameters=({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},),
    responses={"200": {"description": "The job", **content(ref("Job"))}},
    errors=("404", "503"),
)
def get_job(id: str) -> Response:
    return json_response(200, services.jobs().get(caller(routes.event), id), {"Cache-Control": "no-store"})
