"""What every section needs to run the function as AWS would: the template, events, a Lambda context.

Everything here comes from `template.yaml`: the table's keys, the function's environment, its
memory and timeout. Events are API Gateway REST proxy events (payload version 1.0), built the way
API Gateway builds them for a `/{proxy+}` resource.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from tests.support.stack import LocalStack, read_stack

from serverless_local.http import HttpRequest
from serverless_local.services.apigateway.gateway import Gateway
from serverless_local.services.lambda_.worker import LambdaContext

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
FUNCTION = "RecordsFunction"
STAGE_PARAMETER = "StageName"
REGION = "us-east-1"
ACCOUNT = "123456789012"

#: Fixed credentials for moto and the stubs: no request ever leaves the process.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class Function:
    """The Lambda function declared in the template, its parameters at their defaults."""

    handler: str
    environment: dict[str, str]
    memory_mb: int
    timeout_s: int
    stage: str
    tables: dict[str, dict[str, Any]]


@cache
def stack() -> LocalStack:
    """The app as the local runtime reads it from the template, parameters at their defaults."""
    return read_stack(TEMPLATE)


@cache
def function() -> Function:
    """The records function: handler, environment, limits, and CreateTable of the tables."""
    app = stack()
    spec = app.functions[FUNCTION]
    (api,) = app.apis.values()
    return Function(
        handler=spec.handler,
        environment=dict(spec.environment),
        memory_mb=spec.memory_mb,
        timeout_s=int(spec.timeout),
        stage=api.stage,
        tables=app.tables,
    )


#: A deployed function has a cursor secret (without one it logs a warning on every cold start).
CURSOR_SECRET = {"CURSOR_SECRET": "bench-cursor-secret"}


def environment() -> dict[str, str]:
    """The function's environment from the template, a cursor secret, fake credentials and region."""
    return {**function().environment, **CURSOR_SECRET, **FAKE_CREDENTIALS}


def apply_environment() -> None:
    """Set the function's environment in this process (before the handler is imported)."""
    os.environ.update(environment())


# -- events ------------------------------------------------------------------------------------
def _not_invoked(*_: Any) -> Any:
    raise AssertionError("the bench only builds events here")


def api_event(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST proxy event (v1.0) API Gateway sends for this request, built by the local gateway.

    `path` is given decoded; the event carries it percent-encoded in `path`, decoded in
    `pathParameters`, as API Gateway does.
    """
    all_headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate, br",
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "serverless-crud-bench",
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    target = quote(path, safe="/@+:,;=") + ("?" + urlencode(query) if query else "")
    request = HttpRequest(method, target, list(all_headers.items()), (body or "").encode(), "203.0.113.10")
    routed = Gateway(stack(), _not_invoked).event(request, str(uuid.uuid4()))
    assert routed is not None, f"template.yaml routes no {method} {path}"
    event = routed[2]
    if path.startswith("/records"):
        # The template's default (AuthMode=cognito): the authorizer passes a signed-in admin's claims.
        event["requestContext"]["authorizer"] = {"claims": dict(SIGNED_IN_CLAIMS)}
    return event


#: An ID token's claims as API Gateway's Cognito authorizer passes them (every value a string).
SIGNED_IN_CLAIMS = {
    "sub": "5f0c7e4a-1b2c-4d3e-8f90-0123456789ab",
    "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Bench0001",
    "cognito:username": "5f0c7e4a-1b2c-4d3e-8f90-0123456789ab",
    "aud": "benchclient000000000000001",
    "token_use": "id",
    "auth_time": "1767225600",
    "exp": "Thu Jan 01 01:00:00 UTC 2026",
    "iat": "Thu Jan 01 00:00:00 UTC 2026",
    "email": "bench@example.com",
    "email_verified": "true",
    "cognito:groups": "admin",
}


def json_body(value: Any) -> str:
    """A request body as a client would send it."""
    return json.dumps(value, separators=(",", ":"))


# -- Lambda context ------------------------------------------------------------------------------
def lambda_context() -> LambdaContext:
    """The context object the Lambda runtime passes, with the template's memory and timeout."""
    spec = stack().functions[FUNCTION]
    return LambdaContext(
        spec.name, spec.memory_mb, str(uuid.uuid4()), int((time.time() + spec.timeout) * 1000)
    )
