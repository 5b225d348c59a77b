"""API Gateway's Lambda authorizers (SAM `FunctionArn`), TOKEN and REQUEST, run by the local Lambda.

The first authorizer kind registered with the gateway: API Gateway calls the template's authorizer
function with the token (or the request's identity sources) and the method ARN, and reads its IAM
policy. Missing identity or a function that fails with "Unauthorized" is 401, an explicit Deny (or a
policy that does not cover the method) 403, anything else the function answers 500. The policy's
`principalId` and `context` reach the integration in `requestContext.authorizer`. Locally every
request is authorized afresh (API Gateway caches a policy for `ReauthorizeEvery` seconds).
"""

from __future__ import annotations

import fnmatch
import re
import time
from typing import Any

from serverless_local.http import GatewayError, HttpRequest
from serverless_local.services.apigateway.gateway import (
    ACCOUNT_ID,
    AUTHORIZER_FAILED,
    DENIED,
    NOT_ALLOWED,
    UNAUTHORIZED,
    api_id,
)
from serverless_local.services.lambda_.invocation import DeadlineExceeded, Invoke, PayloadTooLarge, Success
from serverless_local.stack import ApiSpec
from serverless_local.template import Resolver, TemplateError

#: API Gateway's limit on an authorizer's run.
AUTHORIZER_TIMEOUT_SECONDS = 10.0
REGION = "us-east-1"


class LambdaAuthorizer:
    """The gateway's check for routes whose authorizer has a `FunctionArn`."""

    def __init__(self, resolver: Resolver, invoke: Invoke) -> None:
        self.resolver = resolver
        self.invoke = invoke

    def __call__(
        self, api: ApiSpec, name: str, declared: Any, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        try:
            config = self.resolver.resolve(declared)
        except TemplateError:
            return AUTHORIZER_FAILED
        identity = config.get("Identity") or {}
        method_arn = _method_arn(api, event)
        if str(config.get("FunctionPayloadType", "TOKEN")).upper() == "REQUEST":
            if not _has_identity(identity, event):
                return UNAUTHORIZED
            payload: dict[str, Any] = {**_request_part(event), "type": "REQUEST", "methodArn": method_arn}
        else:
            header = str(identity.get("Header") or "Authorization").lower()
            token = next((v for k, v in (event["headers"] or {}).items() if k.lower() == header), "")
            pattern = identity.get("ValidationExpression")
            if not token or (pattern and re.fullmatch(str(pattern), token) is None):
                return UNAUTHORIZED
            payload = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        started = time.monotonic()
        try:
            outcome = self.invoke(
                str(config.get("FunctionArn")), payload, started + AUTHORIZER_TIMEOUT_SECONDS
            )
        except (DeadlineExceeded, PayloadTooLarge, LookupError):
            return AUTHORIZER_FAILED
        if not isinstance(outcome, Success):
            return UNAUTHORIZED if outcome.error_message == "Unauthorized" else AUTHORIZER_FAILED
        denied = verdict(outcome.payload, method_arn)
        if denied is not None:
            return denied
        policy = outcome.payload
        event["requestContext"]["authorizer"] = {
            **(policy.get("context") or {}),
            "principalId": policy.get("principalId"),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }
        return None


def _method_arn(api: ApiSpec, event: dict[str, Any]) -> str:
    """arn:aws:execute-api:region:account:api-id/stage/METHOD/resource-path"""
    where = f"{api_id(api.logical_id)}/{api.stage}/{event['httpMethod']}/{event['path'].lstrip('/')}"
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{where}"


def _has_identity(identity: dict[str, Any], event: dict[str, Any]) -> bool:
    headers = {k.lower() for k in (event["headers"] or {})}
    queries = set(event["queryStringParameters"] or {})
    return all(h.lower() in headers for h in identity.get("Headers") or []) and all(
        q in queries for q in identity.get("QueryStrings") or []
    )


def _request_part(event: dict[str, Any]) -> dict[str, Any]:
    names = (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    )
    return {name: event.get(name) for name in names}


def verdict(policy: Any, method_arn: str) -> GatewayError | None:
    """None when the policy allows the method; API Gateway's answer otherwise."""
    if not isinstance(policy, dict) or not isinstance(policy.get("policyDocument"), dict):
        return AUTHORIZER_FAILED
    statements = policy["policyDocument"].get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            return AUTHORIZER_FAILED
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, str(r)) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return DENIED
        allowed = allowed or statement.get("Effect") == "Allow"
    return None if allowed else NOT_ALLOWED
