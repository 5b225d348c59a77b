"""Idempotent requests (draft-ietf-httpapi-idempotency-key-header) with Powertools' idempotency utility.

A route makes itself idempotent in one line: `return idempotency.once(routes, "POST /records",
produce)`. The first request with an `Idempotency-Key` runs `produce` once and its response (status,
headers, body) is kept in the idempotency table for IDEMPOTENCY_TTL_SECONDS; a repeat gets that
response again with `Idempotent-Replayed: true`; the same key with another body is 422, a repeat
while the first is still running 409. Keys are scoped to the route and the caller, so nobody can
replay another's answer. A request that fails (an error response) is not kept: it can be retried.
Powertools' idempotency module (and boto3, which it imports) loads on the first keyed request only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from serverless_crud import settings
from serverless_crud.api import services
from serverless_crud.api.http import body_bytes, header
from serverless_crud.api.identity import caller
from serverless_crud.api.problems import ApiProblem
from serverless_crud.api.responses import Response
from serverless_crud.api.routing import Routes

KEY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
#: The draft's 24 hours: how long a key's response is replayed.
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
#: A key is 1-255 visible ASCII characters (the draft's sf-string, quotes optional).
KEY_PATTERN = r'^"?([\x21\x23-\x7e]{1,255})"?$'
_KEY = re.compile(KEY_PATTERN)
#: The header as the OpenAPI document declares it, on each route that calls `once`.
KEY_PARAMETER = {
    "name": KEY_HEADER,
    "in": "header",
    "schema": {"type": "string", "pattern": KEY_PATTERN},
    "description": "A unique key per intended request: a repeat within 24 hours returns the first "
    "response (with `Idempotent-Replayed: true`) instead of doing the work again; the same key with "
    "another request is 422.",
}


def once(routes: Routes, operation: str, produce: Callable[[], Response]) -> Response:
    """`produce()` once per Idempotency-Key (none: every time); a repeat replays its response."""
    event = routes.event
    raw = header(event, KEY_HEADER.lower())
    if raw is None:
        return produce()
    match = _KEY.match(raw.strip())
    if match is None:
        raise ApiProblem(400, f"{KEY_HEADER} must be 1 to 255 visible ASCII characters")
    who = caller(event).subject or "-"
    # The request a key stands for: its query (an import's mode) and its body.
    query = sorted((event.multi_value_query_string_parameters or {}).items())
    request = {
        "key": f"{operation}\n{who}\n{match.group(1)}",
        "body": f"{query}\n{body_bytes(event).decode('utf-8', 'replace')}",
    }
    return _idempotent(settings.current(), request, produce, routes.context)


def _idempotent(
    current: settings.Settings, request: dict[str, str], produce: Callable[[], Response], context: Any
) -> Response:
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    if not current.idempotency_table:
        raise ApiProblem(400, f"this deployment does not accept {KEY_HEADER}")

    def run(request: dict[str, str]) -> dict[str, Any]:
        response = produce()
        return {"status": response.status_code, "headers": dict(response.headers), "body": response.body}

    config = _config()
    # An in-flight record expires with the invocation, so a crashed request does not block its key.
    config.register_lambda_context(context)
    guarded = idempotent_function(
        run,
        data_keyword_argument="request",
        persistence_store=services.current().idempotency_store(),
        config=config,
        key_prefix="requests",
    )
    try:
        kept: dict[str, Any] = guarded(request=request)
    except IdempotencyValidationError:
        raise ApiProblem(422, f"this {KEY_HEADER} was used with another request body") from None
    except IdempotencyAlreadyInProgressError:
        detail = f"a request with this {KEY_HEADER} is still being processed; retry shortly"
        raise ApiProblem(409, detail, headers={"Retry-After": "1"}) from None
    except IdempotencyPersistenceLayerError as error:
        from serverless_crud.errors import StoreUnavailable

        raise StoreUnavailable("idempotency store") from error
    headers = {**kept["headers"], **({REPLAY_HEADER: "true"} if kept.get("replayed") else {})}
    return Response(status_code=kept["status"], body=kept["body"], headers=headers)


@settings.per_settings
def _config(current: settings.Settings) -> Any:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    def replayed(response: Any, idempotent_data: Any) -> Any:
        del idempotent_data
        return {**response, "replayed": True}

    return IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        response_hook=replayed,
    )
