"""What every section needs to run the function as AWS would: the template, events, a Lambda context.

Everything here comes from `template.yaml`: the table's keys, the function's environment, its
memory and timeout. Events are API Gateway REST proxy events (payload version 1.0), built the way
API Gateway builds them for a `/{proxy+}` resource.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
def function() -> Function:
    """The records function: handler, environment, limits, and CreateTable of the tables."""
    from serverless_crud.local.template import Resolver, load_template, table_definitions

    document = load_template(TEMPLATE)
    resolver = Resolver.for_template(document)
    globals_ = (document.get("Globals") or {}).get("Function") or {}
    properties = resolver.resolve({**globals_, **document["Resources"][FUNCTION]["Properties"]})
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    return Function(
        handler=properties["Handler"],
        environment={name: str(value) for name, value in variables.items()},
        memory_mb=int(properties.get("MemorySize", 128)),
        timeout_s=int(properties.get("Timeout", 3)),
        stage=str(resolver.parameters.get(STAGE_PARAMETER, "dev")),
        tables=table_definitions(document),
    )


#: A deployed function has a cursor secret (without one it logs a warning on every cold start).
CURSOR_SECRET = {"CURSOR_SECRET": "bench-cursor-secret"}


def environment() -> dict[str, str]:
    """The function's environment from the template, a cursor secret, fake credentials and region."""
    return {**function().environment, **CURSOR_SECRET, **FAKE_CREDENTIALS}


def apply_environment() -> None:
    """Set the function's environment in this process (before the handler is imported)."""
    os.environ.update(environment())


# -- events --------------------------------------------------------------------------------------
def api_event(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (v1.0) for `/{proxy+}`, as API Gateway sends it.

    `path` is given decoded; the event carries it percent-encoded in `path`, decoded in
    `pathParameters`, as API Gateway does.
    """
    stage = function().stage
    raw_path = quote(path, safe="/@+:,;=")
    request_id = str(uuid.uuid4())
    now = time.time()
    all_headers = {
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate, br",
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "serverless-crud-bench",
        "X-Amzn-Trace-Id": f"Root=1-{int(now):08x}-{uuid.uuid4().hex[:24]}",
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    return {
        "resource": "/{proxy+}",
        "path": raw_path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{raw_path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "abcdef1234",
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.10",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "serverless-crud-bench",
                "user": None,
            },
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "apiId": "abcdef1234",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def json_body(value: Any) -> str:
    """A request body as a client would send it."""
    return json.dumps(value, separators=(",", ":"))


# -- Lambda context ------------------------------------------------------------------------------
class LambdaContext:
    """The context object the Lambda runtime passes to a handler, with the template's limits."""

    def __init__(self) -> None:
        fn = function()
        self.function_name = "serverless-crud-RecordsFunction"
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        self.memory_limit_in_mb = fn.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"
        self._deadline = time.monotonic() + fn.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
