"""HTTP APIs' authorizers: JWT (against the template's user pools) and Lambda (payload 1.0 or 2.0).

JWT: the token from the identity source (`$request.header.Authorization` unless the authorizer names
another; `Bearer ` is optional) must be RS256-signed by a key of the issuer, the issuer must be the
authorizer's `issuer`, its `aud` (an ID token) or `client_id` (an access token) one of the `audience`,
and it must not be expired or not yet valid; otherwise `401`. A route's `AuthorizationScopes` need one
of them in the token's `scope` (else `403`). The claims and scopes reach the function in
`requestContext.authorizer.jwt`. Issuers are the template's Cognito user pools (their keys are local);
a token of any other issuer is refused, and the banner says so.

Lambda: the identity sources must all be present (else `401`); the function gets API Gateway's
authorizer event (payload 2.0 or 1.0) and answers a simple response (`isAuthorized`, `context`) when
`EnableSimpleResponses` is set, an IAM policy otherwise; a denial is `403`, a function error `500`
(`Unauthorized` is `401`). Its `context` reaches the function in `requestContext.authorizer.lambda`.
Every request is authorized afresh (no caching).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from serverless_local import jwt_tokens
from serverless_local.http import GatewayError, HttpRequest
from serverless_local.services.apigateway.gateway import api_id
from serverless_local.services.apigateway.lambda_authorizer import verdict
from serverless_local.services.http_api.gateway import FAILED, FORBIDDEN, UNAUTHORIZED, HttpApiSpec, HttpRoute
from serverless_local.services.lambda_.invocation import DeadlineExceeded, Invoke, PayloadTooLarge, Success
from serverless_local.template import Resolver, TemplateError

AUTHORIZER_TIMEOUT_SECONDS = 10.0
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
#: An issuer's verification keys and app clients, or None when the issuer is not local.
IssuerKeys = Callable[[str], Any]


def identity(source: str, event: dict[str, Any]) -> str | None:
    """The value an identity source (`$request.header.X`, `$request.querystring.Y`) selects, or None."""
    source = source.strip()
    for prefix, values in (
        ("$request.header.", {k.lower(): v for k, v in (event.get("headers") or {}).items()}),
        ("$request.querystring.", event.get("queryStringParameters") or {}),
    ):
        if source.startswith(prefix):
            name = source[len(prefix) :]
            return values.get(name.lower() if prefix == "$request.header." else name)
    return None


class JwtAuthorizer:
    """The check of a route whose authorizer has a `JwtConfiguration`."""

    def __init__(self, resolver: Resolver, keys: IssuerKeys) -> None:
        self.resolver = resolver
        self.keys = keys

    def __call__(
        self, api: HttpApiSpec, route: HttpRoute, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        try:
            config = self.resolver.resolve(api.authorizers[route.authorizer or ""])
        except TemplateError:
            return FAILED
        jwt = config.get("JwtConfiguration") or {}
        source = str(config.get("IdentitySource") or "$request.header.Authorization")
        token = identity(source, event) or ""
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        claims = self.verify(token, str(jwt.get("issuer") or ""), [str(a) for a in jwt.get("audience") or []])
        if claims is None:
            return UNAUTHORIZED
        scopes = str(claims.get("scope") or "").split()
        if route.scopes and not set(route.scopes) & set(scopes):
            return FORBIDDEN
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": {k: _claim(v) for k, v in claims.items()}, "scopes": scopes or None}
        }
        return None

    def verify(self, token: str, issuer: str, audience: list[str]) -> dict[str, Any] | None:
        """The claims of a valid token of `issuer` for `audience`, or None."""
        parsed = jwt_tokens.parse(token)
        if parsed is None or parsed.header.get("alg") != "RS256":
            return None
        claims = parsed.claims
        if claims.get("iss") != issuer:
            return None
        pool = self.keys(issuer)
        key = pool.keys.get(str(parsed.header.get("kid"))) if pool is not None else None
        if key is None or not jwt_tokens.rs256_valid(parsed.signed, parsed.signature, key):
            return None
        audiences = claims.get("aud") if "aud" in claims else claims.get("client_id")
        named = audiences if isinstance(audiences, list) else [audiences]
        if not set(map(str, named)) & set(audience):
            return None
        now = time.time()
        expires, begins = claims.get("exp"), claims.get("nbf")
        if not isinstance(expires, int | float) or expires <= now:
            return None
        if isinstance(begins, int | float) and begins > now + 1:
            return None
        return claims


def _claim(value: Any) -> str:
    """A claim as HTTP APIs pass it: text (a list as `[a b]`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


class LambdaHttpAuthorizer:
    """The check of a route whose authorizer has a `FunctionArn`."""

    def __init__(self, resolver: Resolver, invoke: Invoke) -> None:
        self.resolver = resolver
        self.invoke = invoke

    def __call__(
        self, api: HttpApiSpec, route: HttpRoute, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        try:
            config = self.resolver.resolve(api.authorizers[route.authorizer or ""])
        except TemplateError:
            return FAILED
        declared = config.get("Identity") or {}
        sources = [f"$request.header.{h}" for h in declared.get("Headers") or []]
        sources += [f"$request.querystring.{q}" for q in declared.get("QueryStrings") or []]
        if not sources and not declared:
            sources = ["$request.header.Authorization"]
        found = [identity(s, _as_v2(event)) for s in sources]
        if any(value is None for value in found):
            return UNAUTHORIZED
        version = str(config.get("AuthorizerPayloadFormatVersion") or "2.0")
        route_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id(api.logical_id)}/{api.stage}/" + (
            route.key.replace(" ", "")
        )
        if version == "2.0":
            payload = {**event, "type": "REQUEST", "routeArn": route_arn, "identitySource": found}
        else:
            payload = {
                **event,
                "version": "1.0",
                "type": "REQUEST",
                "methodArn": route_arn,
                "identitySource": ",".join(str(v) for v in found),
            }
        started = time.monotonic()
        try:
            outcome = self.invoke(
                str(config.get("FunctionArn")), payload, started + AUTHORIZER_TIMEOUT_SECONDS
            )
        except (DeadlineExceeded, PayloadTooLarge, LookupError):
            return FAILED
        if not isinstance(outcome, Success):
            return UNAUTHORIZED if outcome.error_message == "Unauthorized" else FAILED
        answer = outcome.payload
        if str(config.get("EnableSimpleResponses")).lower() == "true" and version == "2.0":
            if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
                return FAILED
            if not answer["isAuthorized"]:
                return FORBIDDEN
        else:
            denied = verdict(answer, route_arn)
            if denied is not None:
                return FORBIDDEN if denied.status == 403 else FAILED
        context = dict(answer.get("context") or {}) if isinstance(answer, dict) else {}
        if version == "2.0":
            event["requestContext"]["authorizer"] = {"lambda": context}
        else:
            event["requestContext"]["authorizer"] = {**context, "principalId": answer.get("principalId")}
        return None


def _as_v2(event: dict[str, Any]) -> dict[str, Any]:
    """A 1.0 event's headers and query as 2.0's (identity sources read either)."""
    return {
        "headers": event.get("headers") or {},
        "queryStringParameters": event.get("queryStringParameters") or {},
    }
