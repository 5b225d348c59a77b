"""API Gateway REST API proxy events (payload v1.0), built the way API Gateway builds them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import quote, unquote

# A REST proxy resource `/{proxy+}` receives every path, as template.yaml declares.
PROXY_RESOURCE = "/{proxy+}"


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str] | str] | None = None,
    stage: str = "dev",
    binary: bool = False,
) -> dict[str, Any]:
    """A proxy event for `method path`. `path` is as the client sent it (percent-encoded).

    `body` may be a str (sent as is), bytes, or any JSON value (serialised).
    """
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    is_base64 = binary or isinstance(body, bytes)
    if isinstance(body, bytes):
        body = base64.b64encode(body).decode()
    elif binary and isinstance(body, str):
        body = base64.b64encode(body.encode()).decode()
    multi_query = {k: (v if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    resource = "/" if path == "/" else PROXY_RESOURCE
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None if path == "/" else {"proxy": unquote(path.lstrip("/"))},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "abc123",
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.7",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": "pytest",
                "user": None,
            },
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def record_path(email: str, record_id: int | str) -> str:
    """The path of one record, percent-encoded as a browser sends it."""
    return f"/records/{quote(email, safe='')}/{record_id}"


class LambdaContext:
    """The Lambda context object the runtime passes (attributes as AWS documents them)."""

    function_name = "RecordsFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:RecordsFunction"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/RecordsFunction"
    log_stream_name = "2026/11/24/[$LATEST]abcdef"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
