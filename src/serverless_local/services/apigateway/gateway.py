"""The local API Gateway: HTTP request -> route -> authorizers -> proxy event (v1.0) -> Lambda -> response.

Events are built the way API Gateway builds them for a REST API with Lambda proxy integration, and
API Gateway's own answers are reproduced (JSON `{"message": ...}` with `x-amzn-ErrorType` and the
API's GatewayResponses headers): 403 without a route, 413 over the payload limits, 502 when the
function fails, times out or answers something malformed, 504 past the integration timeout.

Each route's `Auth` (an authorizer of the API, an API key) is checked before the function runs, by
the authorizer registered for its kind (`Gateway.authorizers`); a service that can enforce a kind
(the user pool service: Cognito) registers it.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from serverless_local.http import (
    BAD_REQUEST,
    FAILED,
    TOO_LARGE,
    GatewayError,
    HttpRequest,
    HttpResponse,
)
from serverless_local.options import INTEGRATION_TIMEOUT_SECONDS
from serverless_local.services.apigateway import request_validation
from serverless_local.services.lambda_.invocation import DeadlineExceeded, Invoke, PayloadTooLarge, Success
from serverless_local.stack import HTTP_METHODS, ApiSpec, Route, group_name, path_pattern

#: API Gateway's payload limit (Lambda's own 6 MB limits are the Lambda service's).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
ACCOUNT_ID = "123456789012"
RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
ALL_METHODS = "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"


MISSING_TOKEN = GatewayError(
    403, "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN", "MissingAuthenticationTokenException"
)
UNAUTHORIZED = GatewayError(401, "Unauthorized", "UNAUTHORIZED", "UnauthorizedException")
FORBIDDEN = GatewayError(403, "Forbidden", "INVALID_API_KEY", "ForbiddenException")
TIMED_OUT = GatewayError(
    504, "Endpoint request timed out", "INTEGRATION_TIMEOUT", "InternalServerErrorException"
)
DENIED = GatewayError(
    403,
    "User is not authorized to access this resource with an explicit deny",
    "ACCESS_DENIED",
    "AccessDeniedException",
    key="Message",
)
NOT_ALLOWED = GatewayError(
    403,
    "User is not authorized to access this resource",
    "ACCESS_DENIED",
    "AccessDeniedException",
    key="Message",
)
AUTHORIZER_FAILED = GatewayError(
    500, None, "AUTHORIZER_CONFIGURATION_ERROR", "AuthorizerConfigurationException"
)

#: A route's authorizer check: (the API, the authorizer's name and declared properties, the
#: request, its event) -> None to let it through (it may add `requestContext.authorizer`), or the
#: gateway's answer.
Authorizer = Callable[[ApiSpec, str, Any, HttpRequest, dict[str, Any]], GatewayError | None]
#: The kind of a SAM authorizer, from its declared properties.
AUTHORIZER_KINDS = (("UserPoolArn", "COGNITO_USER_POOLS"), ("FunctionArn", "LAMBDA"))
API_KEY = "API_KEY"


def authorizer_kind(declared: Any) -> str:
    """COGNITO_USER_POOLS, LAMBDA or UNKNOWN for one of an API's `Auth.Authorizers` (or a security
    scheme of its OpenAPI body)."""
    if isinstance(declared, dict):
        if str(declared.get("x-amazon-apigateway-authtype", "")).lower() == "cognito_user_pools":
            return "COGNITO_USER_POOLS"
        for prop, kind in AUTHORIZER_KINDS:
            if prop in declared:
                return kind
    return "UNKNOWN"


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: Any
    specificity: tuple[int, ...]


def _specificity(path: str) -> tuple[int, ...]:
    """Literal segments beat {param}, which beats {proxy+}: API Gateway's choice among resources."""
    if path == "/":
        return ()
    return tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in path.strip("/").split("/"))


@functools.cache
def _resource_id(api: str, path: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{api}{path}").hex[:6]


@functools.cache
def api_id(api: str) -> str:
    """A stable, API Gateway-shaped id for an API's logical id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, api).hex[:10]


class RoutingTable(Protocol):
    """The APIs and routes a gateway serves (the API Gateway service; a test's reading of a template)."""

    apis: dict[str, ApiSpec]
    routes: list[Route]


class Gateway:
    """Routes requests to functions the way a deployed REST API stage would."""

    def __init__(
        self, stack: RoutingTable, invoke: Invoke, integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    ) -> None:
        self.stack = stack
        self.invoke = invoke
        self.integration_timeout = integration_timeout
        self.routes = sorted(
            (_CompiledRoute(r, path_pattern(r.path), _specificity(r.path)) for r in stack.routes),
            key=lambda c: c.specificity,
        )
        self._stages = {api.stage for api in stack.apis.values()}
        #: Authorizer checks by kind (COGNITO_USER_POOLS, LAMBDA, API_KEY), registered by services.
        self.authorizers: dict[str, Authorizer] = {}

    # -- request -> route -> authorizers -> function -> response --------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request (403 Missing Authentication Token when no route is its)."""
        return self.route(request) or self.no_route(request)

    def no_route(self, request: HttpRequest) -> HttpResponse:
        """API Gateway's answer to a request no resource and method match."""
        return self.error(MISSING_TOKEN, str(uuid.uuid4()), None)

    def route(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a request one of the APIs routes (None: no route is its)."""
        request_id = str(uuid.uuid4())
        if not _valid_target(request.target):
            return self.error(BAD_REQUEST, request_id, None)
        routed = self.event(request, request_id)
        if routed is None:
            return None
        route, api, event = routed
        if len(request.body) > MAX_REQUEST_BYTES:
            return self.error(TOO_LARGE, request_id, api)
        if request.method == "OPTIONS" and api.cors is not None:
            return self.preflight(api, event["resource"], request_id)
        denied = self.authorize(route, api, request, event)
        if denied is not None:
            return self.error(denied, request_id, api)
        if route.check is not None and route.check.active:
            problem = request_validation.problems(route.check, event)
            if problem is not None:
                return self.error(
                    GatewayError(400, problem[1], problem[0], "BadRequestException"), request_id, api
                )
        try:
            result = self.invoke(route.function, event, request.received + self.integration_timeout)
        except PayloadTooLarge:
            return self.error(TOO_LARGE, request_id, api)
        except DeadlineExceeded:
            return self.error(TIMED_OUT, request_id, api)
        response = proxy_response(result.payload) if isinstance(result, Success) else None
        if response is None:
            return self.error(FAILED, request_id, api)
        response.headers.append(("x-amzn-RequestId", request_id))
        return response

    def authorize(
        self, route: Route, api: ApiSpec, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        """The route's checks, in API Gateway's order: the API key, then the authorizer."""
        checks: list[tuple[str, str, Any]] = []
        auth = route.auth_for(request.method)
        if auth.api_key_required:
            checks.append((API_KEY, API_KEY, None))
        if auth.authorizer is not None:
            declared = api.authorizers.get(auth.authorizer)
            checks.append((authorizer_kind(declared), auth.authorizer, declared))
        for kind, name, declared in checks:
            check = self.authorizers.get(kind)
            if check is not None and (denied := check(api, name, declared, request, event)) is not None:
                return denied
        return None

    def unenforced(self) -> list[str]:
        """Route checks no registered authorizer enforces (for the banner)."""
        missing = set()
        for route in self.stack.routes:
            api = self.stack.apis[route.api]
            for auth in (route.auth, *route.method_auth.values()):
                if auth.api_key_required and API_KEY not in self.authorizers:
                    missing.add(f"{route.api}: API keys are not checked locally")
                if auth.authorizer is not None:
                    kind = authorizer_kind(api.authorizers.get(auth.authorizer))
                    if kind not in self.authorizers:
                        missing.add(
                            f"{route.api}: the {kind} authorizer {auth.authorizer} is not enforced locally"
                        )
        return sorted(missing)

    def event(self, request: HttpRequest, request_id: str) -> tuple[Route, ApiSpec, dict[str, Any]] | None:
        """The route a request takes and the proxy event its function receives, or None without one."""
        raw_path, _, raw_query = request.target.partition("?")
        path = self._without_stage(raw_path or "/")
        match = self.match(request.method, path)
        if match is None:
            return None
        compiled, parameters = match
        api = self.stack.apis[compiled.route.api]
        return (
            compiled.route,
            api,
            build_event(request, path, raw_query, compiled.route, api, parameters, request_id),
        )

    def _without_stage(self, path: str) -> str:
        """The stage prefix is optional locally: /dev/records and /records are the same resource."""
        first, _, rest = path.lstrip("/").partition("/")
        return "/" + rest if first in self._stages else path

    def match(self, method: str, path: str) -> tuple[_CompiledRoute, dict[str, str]] | None:
        """The most specific resource matching `path`, then its method (or ANY) for `method`."""
        resources = [(c, m) for c in self.routes if (m := c.pattern.match(path))]
        if not resources:
            return None
        best = resources[0][0].specificity
        candidates = [(c, m) for c, m in resources if c.specificity == best]
        for wanted in (method, "ANY"):
            if wanted == "ANY" and method not in HTTP_METHODS:
                break  # ANY is API Gateway's seven methods, not any token a client sends
            for compiled, found in candidates:
                if compiled.route.method == wanted:
                    parameters = {group_name(k): unquote(v) for k, v in found.groupdict().items()}
                    return compiled, parameters
        if method == "OPTIONS":
            api = self.stack.apis[candidates[0][0].route.api]
            if api.cors is not None:
                return candidates[0][0], {}
        return None

    # -- the gateway's own answers ----------------------------------------------------------------
    def preflight(self, api: ApiSpec, resource: str, request_id: str) -> HttpResponse:
        """SAM's Cors: an OPTIONS mock integration on every resource."""
        cors = api.cors
        assert cors is not None
        methods = {r.method for r in self.stack.routes if r.api == api.logical_id and r.path == resource}
        allowed = ALL_METHODS if "ANY" in methods else ",".join(sorted(methods | {"OPTIONS"}))
        headers = [
            ("Content-Type", "application/json"),
            ("Access-Control-Allow-Origin", cors.allow_origin),
            ("Access-Control-Allow-Methods", cors.allow_methods or allowed),
        ]
        if cors.allow_headers:
            headers.append(("Access-Control-Allow-Headers", cors.allow_headers))
        if cors.max_age:
            headers.append(("Access-Control-Max-Age", cors.max_age))
        if cors.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        headers.append(("x-amzn-RequestId", request_id))
        return HttpResponse(200, headers, b"")

    def error(self, error: GatewayError, request_id: str, api: ApiSpec | None) -> HttpResponse:
        """API Gateway's own answer: JSON `{"message": ...}`, x-amzn-ErrorType, GatewayResponses headers."""
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error.error_type),
        ]
        if api is None and len(self.stack.apis) == 1:
            api = next(iter(self.stack.apis.values()))
        if api is not None:
            family = "DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX"
            declared = api.gateway_response_headers
            headers.extend((declared.get(error.kind) or declared.get(family) or {}).items())
        return HttpResponse(error.status, headers, json.dumps({error.key: error.message}).encode())


#: A request target API Gateway accepts: an origin-form path of RFC 3986 characters with well-formed
#: %-escapes (no backslash, no raw bytes beyond ASCII), then any visible query.
_TARGET = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*(?:\?[\x21-\x7e]*)?")


def _valid_target(target: str) -> bool:
    """Whether a request target is a path (and query) of RFC 3986 characters, escapes well formed."""
    return _TARGET.fullmatch(target) is not None


def _headers(request: HttpRequest) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`headers` (last value of each) and `multiValueHeaders` (every line), named as first sent."""
    names: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    forwarded_for = ""
    for name, value in request.headers:
        if name.lower() == "x-forwarded-for":
            forwarded_for = value
            continue
        key = names.setdefault(name.lower(), name)
        multi.setdefault(key, []).append(value)
    # What API Gateway adds in front of a regional endpoint.
    multi["X-Forwarded-For"] = [
        f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip
    ]
    multi.setdefault("X-Forwarded-Port", [str(request.local_port)])
    multi.setdefault("X-Forwarded-Proto", ["http"])
    if "x-amzn-trace-id" not in names:
        multi["X-Amzn-Trace-Id"] = [f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"]
    return {name: values[-1] for name, values in multi.items()}, multi


def _query(raw_query: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """Percent-decoded parameters; `+` stays `+` (API Gateway does not form-decode)."""
    multi: dict[str, list[str]] = {}
    for pair in raw_query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        multi.setdefault(unquote(name), []).append(unquote(value))
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def _is_binary(content_type: str | None, binary_media_types: tuple[str, ...]) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return any(fnmatch.fnmatchcase(media, pattern.lower()) for pattern in binary_media_types)


def _body(request: HttpRequest, content_type: str | None, api: ApiSpec) -> tuple[str | None, bool]:
    """The body as the event carries it. Binary media types (and bytes that are not UTF-8) go base64."""
    if not request.body:
        return None, False
    if not _is_binary(content_type, api.binary_media_types):
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True


def build_event(
    request: HttpRequest,
    path: str,
    raw_query: str,
    route: Route,
    api: ApiSpec,
    path_parameters: dict[str, str],
    request_id: str,
) -> dict[str, Any]:
    """The REST API proxy event (payload 1.0) API Gateway would send for this request."""
    headers, multi_headers = _headers(request)
    query, multi_query = _query(raw_query)
    lower = {name.lower(): value for name, value in headers.items()}
    body, is_base64 = _body(request, lower.get("content-type"), api)
    host = lower.get("host", "localhost").rsplit(":", 1)[0] if "host" in lower else "localhost"
    now = time.time()
    the_api_id = api_id(api.logical_id)
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": api.stage_variables,
        "requestContext": {
            "resourceId": _resource_id(api.logical_id, route.path),
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode(),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{api.stage}{path}" if path != "/" else f"/{api.stage}/",
            "accountId": ACCOUNT_ID,
            "protocol": request.protocol,
            "stage": api.stage,
            "domainPrefix": host.split(".", 1)[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": lower.get("user-agent"),
                "user": None,
            },
            "domainName": host,
            "apiId": the_api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def proxy_response(result: Any) -> HttpResponse | None:
    """The HTTP response for a Lambda proxy result, or None if API Gateway would call it malformed."""
    if not isinstance(result, dict) or not set(result) <= RESPONSE_KEYS:
        return None
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    single, multi = result.get("headers") or {}, result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return None
    headers: list[tuple[str, str]] = []
    for name, values in multi.items():
        if not isinstance(values, list):
            return None
        for value in values:
            text = _scalar(value)
            if text is None:
                return None
            headers.append((str(name), text))
    named = {name.lower() for name, _ in headers}
    for name, value in single.items():
        text = _scalar(value)
        if text is None:
            return None
        if str(name).lower() not in named:
            headers.append((str(name), text))
    if "content-type" not in {name.lower() for name, _ in headers}:
        headers.append(("Content-Type", "application/json"))
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        return None
    raw = (body or "").encode()
    if result.get("isBase64Encoded") is True and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            return None
    return HttpResponse(status, headers, raw)
