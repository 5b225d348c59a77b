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
    "401": "Sign-in required: no valid ID token of the user pool in Authorization (API Gateway answers "
    '`{"message": ...}`), or the token carries no verified email',
    "403": "Another owner's partition: a listing or a create with someone else's email",
    "503": "DynamoDB throttled or unreachable; see Retry-After",
}
#: The Idempotency-Key header of the creating POSTs (api/idempotency.py).
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "schema": {"type": "string", "pattern": KEY_PATTERN},
    "description": "A unique key per intended request: a repeat within 24 hours returns the first "
    "response (with `Idempotent-Replayed: true`) instead of doing the work again; the same key with "
    "another request is 422.",
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


def _errors(*codes: str, descriptions: dict[str, str] = _ERRORS) -> dict[str, Any]:
    responses = {}
    for code in codes:
        response: dict[str, Any] = {
            "description": descriptions[code],
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


_JOB_ERRORS = {
    "400": "Malformed JSON, or a mode other than create or upsert",
    "403": "The partition is not the caller's",
    "404": "No job of the caller has that id",
    "409": "A request with the same Idempotency-Key is still being processed; see Retry-After",
    "413": "The file or body is over the size limit (upload a bigger file with a presigned URL)",
    "415": "Wrong Content-Type",
    "422": "A file with no valid header or not UTF-8, an invalid request member, or an "
    "Idempotency-Key used with another request",
    "503": "DynamoDB throttled or unreachable, or jobs are not configured; see Retry-After",
}


#: What a job started with a JSON body may answer besides 202.
_JSON_JOB_ERRORS = ("400", "403", "413", "415", "422", "503")


def _job_errors(*codes: str) -> dict[str, Any]:
    return _errors(*codes, descriptions=_JOB_ERRORS)


def _job_started(summary: str, operation: str, body: dict[str, Any], *codes: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "operationId": operation,
            **body,
            "responses": {
                "202": {
                    "description": "Started: follow Location (GET /jobs/{id}) until the status is "
                    "succeeded or failed",
                    "headers": {"Location": {**_STRING, "description": "The job's URL."}},
                    **_json(_ref("Job")),
                },
                **_job_errors(*codes),
            },
        }
    }


def _job_paths(max_import_bytes: int) -> dict[str, Any]:
    text = {"schema": {"type": "string"}}
    email = {**schemas()["RecordCreate"]["properties"]["email"], "description": "A partition (an email key)."}
    return {
        "/imports": {
            **_job_started(
                "Import a CSV or JSON Lines file of records",
                "startImport",
                {
                    "description": "CSV: a header naming record fields (email required; the server's fields "
                    "version, created_at, created_by, updated_at and updated_by are ignored), one record "
                    "per row; an empty cell is an "
                    "absent field, `tags` are separated by `|`, `active` is true or false, numbers are "
                    "exact. JSON Lines: one record object per line. A row without an id gets one "
                    "derived from the file and its line (the same file twice writes the same keys); "
                    "a row whose key exists is rejected as `exists` unless mode=upsert, and one whose "
                    "record already holds the same values is counted `unchanged`. A text cell that "
                    "begins with ' followed by =, +, -, @, a tab, a carriage return or ' loses the ' "
                    "(exports write it so that spreadsheets do not run formulas).",
                    "parameters": [
                        {
                            "name": "mode",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["create", "upsert"], "default": "create"},
                        },
                        _IDEMPOTENCY_KEY,
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": text,
                            "application/x-ndjson": text,
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "description": "A file uploaded through POST /imports/uploads.",
                                    "additionalProperties": False,
                                    "required": ["upload"],
                                    "properties": {
                                        "upload": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                                        "format": {
                                            "type": "string",
                                            "enum": ["csv", "jsonl"],
                                            "default": "csv",
                                        },
                                    },
                                }
                            },
                        },
                    },
                },
                "400",
                "409",
                "413",
                "415",
                "422",
                "503",
            )
        },
        "/imports/uploads": {
            "post": {
                "summary": "A presigned upload for a file over the body limit (then POST /imports naming it)",
                "operationId": "startUpload",
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "format": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"},
                                "size": {
                                    "type": "integer",
                                    "minimum": 1,
                                    "maximum": max_import_bytes,
                                    "description": "The file's size in bytes (MaxImportBytes at most: a "
                                    "bigger one is 413 now).",
                                },
                            },
                        }
                    ),
                },
                "responses": {
                    "201": {
                        "description": "POST the file to upload_url as a multipart/form-data form: the "
                        "upload_fields, then the file as `file` (S3 refuses one over max_bytes); then "
                        'POST /imports {"upload": upload, "format": format}',
                        **_json(
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
                                    "format": {"type": "string", "enum": ["csv", "jsonl"]},
                                    "upload_url": {"type": "string"},
                                    "upload_fields": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "content_type": {"type": "string"},
                                    "max_bytes": {"type": "integer"},
                                    "expires_in": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    **_job_errors("400", "413", "415", "422", "503"),
                },
            }
        },
        "/exports": _job_started(
            "Export the records the caller may see (or one partition's) to a file",
            "startExport",
            {
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "format": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"},
                                "email": email,
                            },
                        }
                    ),
                }
            },
            *_JSON_JOB_ERRORS,
        ),
        "/erasures": _job_started(
            "Erase every record of one partition",
            "startErasure",
            {
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["email"],
                            "properties": {"email": email},
                        }
                    ),
                }
            },
            *_JSON_JOB_ERRORS,
        ),
        "/jobs": {
            "get": {
                "summary": "The caller's jobs, newest first",
                "operationId": "listJobs",
                "responses": {
                    "200": {
                        "description": "The jobs",
                        **_json(
                            {
                                "type": "object",
                                "required": ["items"],
                                "properties": {"items": {"type": "array", "items": _ref("Job")}},
                            }
                        ),
                    },
                    **_job_errors("503"),
                },
            }
        },
        "/jobs/{id}": {
            "get": {
                "summary": "One job: its status, counts, rejected rows and (exports) download link",
                "operationId": "getJob",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The job", **_json(_ref("Job"))},
                    **_job_errors("404", "503"),
                },
            }
        },
    }


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
    document = {
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
                    "parameters": [_IDEMPOTENCY_KEY],
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
            **_job_paths(current.max_import_bytes),
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
    return _signed_in(document) if current.signs_in else document


def _signed_in(document: dict[str, Any]) -> dict[str, Any]:
    """The records operations behind the user pool (AUTH_MODE=cognito): the ID token, 401 and 403."""
    for path, operations in document["paths"].items():
        if not path.startswith("/records"):
            continue
        for method, operation in operations.items():
            if method == "parameters":
                continue
            operation["security"] = [{"cognito": []}]
            codes = ("401", "403") if path == "/records" else ("401",)
            operation["responses"] = {**operation["responses"], **_errors(*codes)}
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
