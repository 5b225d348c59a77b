"""API Gateway REST API proxy events (payload v1.0), built by the local API Gateway from template.yaml.

The local gateway's events are compared field by field with AWS's own sample in tests/e2e, so the
handler tests and the server receive the same events API Gateway would send for these routes.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from serverless_local.http import HttpRequest
from serverless_local.services.apigateway.gateway import Gateway
from serverless_local.services.lambda_.worker import LambdaContext as RuntimeContext
from tests.support.stack import LocalStack, read_stack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
FUNCTION = "RecordsFunction"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"


@cache
def stack(stage: str = "dev") -> LocalStack:
    """The app as template.yaml declares it, at `stage`."""
    return read_stack(TEMPLATE, {"StageName": stage})


def _not_invoked(*_: Any) -> Any:
    raise AssertionError("events are only built here")


@cache
def gateway(stage: str = "dev") -> Gateway:
    """The local API Gateway for the app at `stage`, used here only to build events."""
    return Gateway(stack(stage), _not_invoked)


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str] | str] | None = None,
    stage: str = "dev",
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The proxy event for `method path` (`path` percent-encoded, as a client sends it).

    `body` may be bytes, a str (sent as UTF-8) or any JSON value (serialised, with a JSON
    Content-Type unless `headers` name one). `claims`: what the Cognito authorizer passes
    (`cognito_claims`), in `requestContext.authorizer.claims`.
    """
    headers = {"Host": HOST, "User-Agent": "pytest", **(headers or {})}
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    raw = body.encode() if isinstance(body, str) else body or b""
    target = path + ("?" + urlencode(query, doseq=True, quote_via=quote) if query else "")
    request = HttpRequest(method, target, list(headers.items()), raw, source_ip="203.0.113.7")
    routed = gateway(stage).event(request, str(uuid.uuid4()))
    assert routed is not None, f"template.yaml routes no {method} {path}"
    event = routed[2]
    if claims is not None:
        event["requestContext"]["authorizer"] = {"claims": claims}
    return event


def cognito_claims(
    email: str, *, sub: str | None = None, groups: str | None = None, verified: bool = True
) -> dict[str, str]:
    """An ID token's claims as API Gateway's Cognito authorizer passes them to a REST proxy
    integration: every value a string, dates as text, groups comma-separated (`groups`: as passed)."""
    now = time.time()
    stamp = "%a %b %d %H:%M:%S UTC %Y"
    claims = {
        "sub": sub or str(uuid.uuid5(uuid.NAMESPACE_URL, email)),
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Tests0001",
        "cognito:username": sub or str(uuid.uuid5(uuid.NAMESPACE_URL, email)),
        "origin_jti": str(uuid.uuid4()),
        "aud": "testsclient0000000000000001",
        "event_id": str(uuid.uuid4()),
        "token_use": "id",
        "auth_time": str(int(now)),
        "exp": time.strftime(stamp, time.gmtime(now + 3600)),
        "iat": time.strftime(stamp, time.gmtime(now)),
        "jti": str(uuid.uuid4()),
        "email": email,
        "email_verified": "true" if verified else "false",
    }
    if groups is not None:
        claims["cognito:groups"] = groups
    return claims


def record_path(email: str, record_id: int | str) -> str:
    """The path of one record, percent-encoded as a browser sends it."""
    return f"/records/{quote(email, safe='')}/{record_id}"


def lambda_context() -> RuntimeContext:
    """The Lambda context the runtime passes, with the template's memory and timeout."""
    spec = stack().functions[FUNCTION]
    return RuntimeContext(
        spec.name, spec.memory_mb, str(uuid.uuid4()), int((time.time() + spec.timeout) * 1000)
    )
