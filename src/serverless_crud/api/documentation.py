"""Pieces of OpenAPI the route declarations are written with (media types, references, headers,
the problem statuses and what each means), so that each declaration reads as what it says."""

from __future__ import annotations

from typing import Any

from serverless_crud.api.problems import PROBLEM_JSON
from serverless_crud.api.responses import JSON

STRING = {"schema": {"type": "string"}}
#: RFC 9110 8.8.3: `entity-tag *( "," entity-tag )`, optional white space around the commas.
ENTITY_TAG_LIST = r'^[ \t]*(W/)?"[^",]*"([ \t]*,[ \t]*(W/)?"[^",]*")*[ \t]*$'

#: The problem statuses of the records' operations.
RECORD_PROBLEMS = {
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
#: The problem statuses of the jobs' operations.
JOB_PROBLEMS = {
    **RECORD_PROBLEMS,
    "400": "Malformed JSON, or a mode other than create or upsert",
    "403": "The partition is not the caller's",
    "404": "No job of the caller has that id",
    "409": "A request with the same Idempotency-Key is still being processed; see Retry-After",
    "413": "The file or body is over the size limit (upload a bigger file with a presigned URL)",
    "422": "A file with no valid header or not UTF-8, an invalid request member, or an "
    "Idempotency-Key used with another request",
    "503": "DynamoDB throttled or unreachable, or jobs are not configured; see Retry-After",
}


def content(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    """`content` of a request or response body: `schema` under each media type (JSON by default)."""
    return {"content": {media_type: {"schema": schema} for media_type in media_types or (JSON,)}}


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of `components.schemas`."""
    return {"$ref": f"#/components/schemas/{name}"}


def body(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    """A required request body."""
    return {"required": True, **content(schema, *media_types)}


def problems(codes: tuple[str, ...], descriptions: dict[str, str]) -> dict[str, Any]:
    """The problem+json responses of `codes`, with the headers some of them carry."""
    responses = {}
    for code in codes:
        response: dict[str, Any] = {
            "description": descriptions[code],
            **content(ref("Problem"), PROBLEM_JSON),
        }
        if code == "412":
            response["headers"] = {"ETag": {**STRING, "description": "The record's current ETag."}}
        if code == "503":
            response["headers"] = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}}
        responses[code] = response
    return responses


def record_ok(description: str, status: str = "200", **headers: Any) -> dict[str, Any]:
    """A success answering one record, with its ETag."""
    return {
        status: {
            "description": description,
            "headers": {
                "ETag": {**STRING, "description": "The record's version as an entity tag."},
                **headers,
            },
            **content(ref("Record")),
        }
    }


def precondition_headers(required: bool) -> list[dict[str, Any]]:
    """If-Match (required when the API requires it) and If-None-Match of a write."""
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
