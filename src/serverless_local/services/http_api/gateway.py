"""API Gateway HTTP APIs (`AWS::Serverless::HttpApi`, SAM `HttpApi` events): routes, payload 2.0, CORS.

Routes are route keys: `METHOD /path` (with `{name}` and a greedy `{proxy+}`), `ANY /path`, and
`$default` (an event without `Path` and `Method`); the most specific path wins, then its method over ANY,
then `$default`. The function receives payload format 2.0 (`version`, `routeKey`, `rawPath`,
`rawQueryString`, `cookies`, `headers` lower-cased and joined by commas, `queryStringParameters`,
`pathParameters`, `requestContext.http`, `requestContext.authorizer`) unless the event says
`PayloadFormatVersion: "1.0"` (the REST shape). Its answer is read as HTTP APIs read it: a `statusCode`
response, or any other JSON value as a 200 `application/json` body. HTTP API's own answers:
`404 {"message":"Not Found"}`, `401 Unauthorized`, `403 Forbidden`, `413`, `500 Internal Server Error`
when the function fails, `503 Service Unavailable` past the route's timeout (30 s at most). With
`CorsConfiguration`, preflights are answered and responses carry the CORS headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from serverless_local.http import GatewayError, HttpRequest, HttpResponse
from serverless_local.services.apigateway.gateway import api_id, build_event, proxy_response
from serverless_local.services.lambda_.invocation import DeadlineExceeded, Invoke, PayloadTooLarge, Success
from serverless_local.stack import HTTP_METHODS, ApiSpec, LocalTemplate, Route, group_name, path_pattern
from serverless_local.template import TemplateError

HTTP_API_TYPE = "AWS::Serverless::HttpApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"
DEFAULT_ROUTE = "$default"
DEFAULT_STAGE = "$default"
MAX_TIMEOUT_MS = 30_000
MAX_REQUEST_BYTES = 10 * 1024 * 1024
ACCOUNT_ID = "123456789012"

NOT_FOUND = GatewayError(404, "Not Found", "NOT_FOUND", "NotFoundException")
UNAUTHORIZED = GatewayError(401, "Unauthorized", "UNAUTHORIZED", "UnauthorizedException")
FORBIDDEN = GatewayError(403, "Forbidden", "ACCESS_DENIED", "ForbiddenException")
TOO_LARGE = GatewayError(
    413, "Request Entity Too Large", "REQUEST_TOO_LARGE", "RequestEntityTooLargeException"
)
FAILED = GatewayError(500, "Internal Server Error", "DEFAULT_5XX", "InternalServerErrorException")
UNAVAILABLE = GatewayError(503, "Service Unavailable", "DEFAULT_5XX", "ServiceUnavailableException")


@dataclass(frozen=True)
class HttpCors:
    """An HTTP API's `CorsConfiguration`."""

    origins: tuple[str, ...] = ("*",)
    headers: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None
    credentials: bool = False


@dataclass(frozen=True)
class HttpApiSpec:
    """One HTTP API and its stage."""

    logical_id: str
    stage: str = DEFAULT_STAGE
    cors: HttpCors | None = None
    #: `Auth.Authorizers` as written (resolved by the authorizer when used).
    authorizers: dict[str, Any] = field(default_factory=dict)
    default_authorizer: str | None = None
    stage_variables: dict[str, str] | None = None


@dataclass(frozen=True)
class HttpRoute:
    """An `HttpApi` event: its route key, function, payload format and authorization."""

    api: str
    method: str
    path: str | None
    function: str
    payload_version: str = "2.0"
    timeout_ms: int = MAX_TIMEOUT_MS
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The route key (`GET /items/{id}`, `$default`)."""
        return DEFAULT_ROUTE if self.path is None else f"{self.method} {self.path}"


def read_http_apis(template: LocalTemplate) -> tuple[dict[str, HttpApiSpec], list[HttpRoute]]:
    """The HTTP APIs the template's `HttpApi` events use, and their routes."""
    routes = [_route(template, event) for event in template.events(["HttpApi"])]
    apis = {name: _api(template, name) for name in sorted({route.api for route in routes})}
    found = []
    for route in routes:
        api = apis[route.api]
        authorizer = route.authorizer if route.authorizer is not None else api.default_authorizer
        found.append(
            HttpRoute(
                route.api,
                route.method,
                route.path,
                route.function,
                route.payload_version,
                route.timeout_ms,
                None if authorizer == "NONE" else authorizer,
                route.scopes,
            )
        )
    return apis, found


def _route(template: LocalTemplate, event: Any) -> HttpRoute:
    where = f"function {event.owner}: event {event.event_id}"
    properties = template.resolve(
        {
            k: v
            for k, v in event.properties.items()
            if k in ("ApiId", "Path", "Method", "PayloadFormatVersion", "TimeoutInMillis", "Auth")
        },
        where,
    )
    path, method = properties.get("Path"), str(properties.get("Method") or "ANY").upper()
    if method == "*":
        method = "ANY"
    if method not in (*HTTP_METHODS, "ANY"):
        raise TemplateError(f"{where}: unknown method {method}")
    if path is not None and not str(path).startswith("/"):
        raise TemplateError(f"{where}: Path must start with /")
    auth = properties.get("Auth") if isinstance(properties.get("Auth"), dict) else {}
    timeout = int(properties.get("TimeoutInMillis") or MAX_TIMEOUT_MS)
    return HttpRoute(
        api=str(properties.get("ApiId") or IMPLICIT_HTTP_API),
        method=method,
        path=None if path is None else str(path),
        function=event.owner,
        payload_version=str(properties.get("PayloadFormatVersion") or "2.0"),
        timeout_ms=min(timeout, MAX_TIMEOUT_MS),
        authorizer=auth.get("Authorizer"),
        scopes=tuple(str(s) for s in auth.get("AuthorizationScopes") or ()),
    )


def _api(template: LocalTemplate, name: str) -> HttpApiSpec:
    resource = template.resources.get(name)
    if resource is None:
        if name == IMPLICIT_HTTP_API:
            return HttpApiSpec(name)
        raise TemplateError(f"ApiId {name} is not an {HTTP_API_TYPE} in the template")
    if resource.type != HTTP_API_TYPE:
        raise TemplateError(f"ApiId {name} is not an {HTTP_API_TYPE} in the template")
    wanted = ("StageName", "CorsConfiguration", "StageVariables")
    properties = template.resolve(
        {k: v for k, v in resource.properties.items() if k in wanted}, f"API {name}"
    )
    declared_auth = resource.properties.get("Auth")
    auth: dict[str, Any] = declared_auth if isinstance(declared_auth, dict) else {}
    default = template.resolve(auth.get("DefaultAuthorizer"), f"API {name}")
    variables = properties.get("StageVariables")
    return HttpApiSpec(
        logical_id=name,
        stage=str(properties.get("StageName") or DEFAULT_STAGE),
        cors=_cors(properties.get("CorsConfiguration")),
        authorizers=dict(auth.get("Authorizers") or {}),
        default_authorizer=None if default is None else str(default),
        stage_variables={k: str(v) for k, v in variables.items()} if isinstance(variables, dict) else None,
    )


def _cors(declared: Any) -> HttpCors | None:
    if declared in (None, False, "false"):
        return None
    if not isinstance(declared, dict):
        return HttpCors()

    def names(key: str) -> tuple[str, ...]:
        value = declared.get(key) or ()
        return tuple(str(v) for v in (value if isinstance(value, list) else [value]))

    max_age = declared.get("MaxAge")
    return HttpCors(
        origins=names("AllowOrigins") or ("*",),
        headers=names("AllowHeaders"),
        methods=names("AllowMethods"),
        expose=names("ExposeHeaders"),
        max_age=None if max_age is None else int(max_age),
        credentials=str(declared.get("AllowCredentials")).lower() == "true",
    )


#: An HTTP API authorizer's check: (api, route, request, event) -> None (the event's
#: `requestContext.authorizer` filled) or the gateway's answer.
HttpAuthorizer = Callable[[HttpApiSpec, HttpRoute, HttpRequest, dict[str, Any]], GatewayError | None]


@dataclass(frozen=True)
class _Compiled:
    route: HttpRoute
    pattern: Any
    specificity: tuple[int, ...]


class HttpGateway:
    """Routes requests to functions the way a deployed HTTP API stage does."""

    def __init__(self, apis: dict[str, HttpApiSpec], routes: list[HttpRoute], invoke: Invoke) -> None:
        self.apis = apis
        self.invoke = invoke
        self.routes = sorted(
            (_Compiled(r, path_pattern(r.path), _specificity(r.path)) for r in routes if r.path is not None),
            key=lambda c: c.specificity,
        )
        self.defaults = [r for r in routes if r.path is None]
        self._stages = {api.stage for api in apis.values() if api.stage != DEFAULT_STAGE}
        #: Authorizer checks by kind (JWT, LAMBDA), registered by the services that can run them.
        self.authorizers: dict[str, HttpAuthorizer] = {}

    def no_route(self, request: HttpRequest) -> HttpResponse:
        """HTTP API's answer to a request no route matches."""
        return self.error(NOT_FOUND, str(uuid.uuid4()), None, request)

    def route(self, request: HttpRequest) -> HttpResponse | None:
        """Answer a request one of the HTTP APIs routes (None: no route is its)."""
        raw_path, _, raw_query = request.target.partition("?")
        path = self._without_stage(raw_path or "/")
        found = self.match(request.method, path)
        preflight = request.method == "OPTIONS" and _has(request, "access-control-request-method")
        if found is None:
            api = self._cors_api() if preflight else None
            return self.preflight(api, request) if api is not None else None
        route, parameters = found
        api = self.apis[route.api]
        request_id = str(uuid.uuid4())
        if preflight and api.cors is not None and route.method != "OPTIONS":
            return self.preflight(api, request)
        if len(request.body) > MAX_REQUEST_BYTES:
            return self.error(TOO_LARGE, request_id, api, request)
        event = self.event(request, raw_path, path, raw_query, route, api, parameters, request_id)
        denied = self.authorize(api, route, request, event)
        if denied is not None:
            return self.error(denied, request_id, api, request)
        try:
            result = self.invoke(route.function, event, request.received + route.timeout_ms / 1000)
        except PayloadTooLarge:
            return self.error(TOO_LARGE, request_id, api, request)
        except DeadlineExceeded:
            return self.error(UNAVAILABLE, request_id, api, request)
        if not isinstance(result, Success):
            return self.error(FAILED, request_id, api, request)
        response = (
            response_v2(result.payload) if route.payload_version == "2.0" else proxy_response(result.payload)
        )
        if response is None:
            return self.error(FAILED, request_id, api, request)
        response.headers.append(("apigw-requestid", request_id))
        _cors_headers(api, request, response.headers)
        return response

    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        """The route of a request: HTTP APIs match method and path together, the most specific path
        first (its method before ANY), then `$default`."""
        for compiled in self.routes:
            found = compiled.pattern.match(path)
            if found is None:
                continue
            if compiled.route.method in (method, "ANY"):
                if compiled.route.method == "ANY" and any(
                    other.route.method == method
                    and other.specificity == compiled.specificity
                    and other.pattern.match(path)
                    for other in self.routes
                ):
                    continue  # the same path with the request's own method wins over ANY
                parameters = {group_name(k): unquote(v) for k, v in found.groupdict().items()}
                return compiled.route, parameters
        for route in self.defaults:
            return route, {}
        return None

    def _without_stage(self, path: str) -> str:
        first, _, rest = path.lstrip("/").partition("/")
        return "/" + rest if first in self._stages else path

    def _cors_api(self) -> HttpApiSpec | None:
        return next((api for api in self.apis.values() if api.cors is not None), None)

    def authorize(
        self, api: HttpApiSpec, route: HttpRoute, request: HttpRequest, event: dict[str, Any]
    ) -> GatewayError | None:
        """The route's authorizer, if it has one."""
        if route.authorizer is None:
            return None
        kind = authorizer_kind(api.authorizers.get(route.authorizer))
        check = self.authorizers.get(kind)
        if check is None:
            return None  # the banner says it is not enforced
        return check(api, route, request, event)

    def unenforced(self) -> list[str]:
        """Routes whose authorizer nothing enforces locally (for the banner)."""
        missing = set()
        for compiled in [*self.routes, *(_Compiled(r, None, ()) for r in self.defaults)]:
            route = compiled.route
            if route.authorizer is None:
                continue
            kind = authorizer_kind(self.apis[route.api].authorizers.get(route.authorizer))
            if kind not in self.authorizers:
                missing.add(f"{route.api}: the {kind} authorizer {route.authorizer} is not enforced locally")
        return sorted(missing)

    # -- events and answers ----------------------------------------------------------------------------
    def event(
        self,
        request: HttpRequest,
        raw_path: str,
        path: str,
        raw_query: str,
        route: HttpRoute,
        api: HttpApiSpec,
        parameters: dict[str, str],
        request_id: str,
    ) -> dict[str, Any]:
        """The event the route's function receives (payload 2.0, or 1.0 if the route says so)."""
        if route.payload_version != "2.0":
            rest_route = Route(route.api, route.path or "/{proxy+}", route.method, route.function)
            rest_api = ApiSpec(api.logical_id, api.stage, stage_variables=api.stage_variables)
            event = build_event(request, path, raw_query, rest_route, rest_api, parameters, request_id)
            event["version"] = "1.0"
            event["requestContext"]["routeKey"] = route.key
            event["requestContext"]["apiId"] = api_id(api.logical_id)
            return event
        return event_v2(request, raw_path, raw_query, route, api, parameters, request_id)

    def preflight(self, api: HttpApiSpec, request: HttpRequest) -> HttpResponse:
        """API Gateway's answer to a CORS preflight (an API with CorsConfiguration)."""
        cors = api.cors
        assert cors is not None
        headers: list[tuple[str, str]] = []
        origin = _header(request, "origin")
        if origin is not None and (_allowed(cors, origin)):
            headers.append(
                (
                    "Access-Control-Allow-Origin",
                    "*" if "*" in cors.origins and not cors.credentials else origin,
                )
            )
            methods = ",".join(cors.methods) or _header(request, "access-control-request-method") or "*"
            headers.append(("Access-Control-Allow-Methods", methods))
            asked = _header(request, "access-control-request-headers")
            if cors.headers:
                headers.append(("Access-Control-Allow-Headers", ",".join(cors.headers)))
            elif asked:
                headers.append(("Access-Control-Allow-Headers", asked))
            if cors.max_age is not None:
                headers.append(("Access-Control-Max-Age", str(cors.max_age)))
            if cors.credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
        return HttpResponse(204, headers, b"")

    def error(
        self, error: GatewayError, request_id: str, api: HttpApiSpec | None, request: HttpRequest
    ) -> HttpResponse:
        """HTTP API's own answer: JSON `{"message": ...}`."""
        headers = [("Content-Type", "application/json"), ("apigw-requestid", request_id)]
        if error.status == 401:
            headers.append(("www-authenticate", 'Bearer scope="" error="invalid_token"'))
        if api is not None:
            _cors_headers(api, request, headers)
        return HttpResponse(error.status, headers, json.dumps({"message": error.message}).encode())


def authorizer_kind(declared: Any) -> str:
    """JWT, LAMBDA or UNKNOWN for one of an HTTP API's `Auth.Authorizers`."""
    if isinstance(declared, dict):
        if "JwtConfiguration" in declared:
            return "JWT"
        if "FunctionArn" in declared:
            return "LAMBDA"
    return "UNKNOWN"


def _specificity(path: str | None) -> tuple[int, ...]:
    if not path or path == "/":
        return ()
    return tuple(2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in path.strip("/").split("/"))


def _header(request: HttpRequest, name: str) -> str | None:
    return next((v for k, v in request.headers if k.lower() == name), None)


def _has(request: HttpRequest, name: str) -> bool:
    return _header(request, name) is not None


def _allowed(cors: HttpCors, origin: str) -> bool:
    return "*" in cors.origins or origin in cors.origins


def _cors_headers(api: HttpApiSpec, request: HttpRequest, headers: list[tuple[str, str]]) -> None:
    cors, origin = api.cors, _header(request, "origin")
    if cors is None or origin is None or not _allowed(cors, origin):
        return
    named = {name.lower() for name, _ in headers}
    if "access-control-allow-origin" not in named:
        headers.append(
            ("Access-Control-Allow-Origin", "*" if "*" in cors.origins and not cors.credentials else origin)
        )
    if cors.expose:
        headers.append(("Access-Control-Expose-Headers", ",".join(cors.expose)))
    if cors.credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))


def event_v2(
    request: HttpRequest,
    raw_path: str,
    raw_query: str,
    route: HttpRoute,
    api: HttpApiSpec,
    parameters: dict[str, str],
    request_id: str,
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends for a request."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", str(request.local_port))
    headers.setdefault("x-forwarded-proto", "http")
    query: dict[str, str] = {}
    for pair in raw_query.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            key, text = unquote(name), unquote(value)
            query[key] = f"{query[key]},{text}" if key in query else text
    host = headers.get("host", "localhost").rsplit(":", 1)[0]
    now = time.time()
    the_api_id = api_id(api.logical_id)
    content_type = headers.get("content-type", "")
    body: str | None = None
    encoded = False
    if request.body:
        textual = content_type.startswith(
            ("text/", "application/json", "application/xml", "application/javascript")
        ) or ("+json" in content_type or "+xml" in content_type)
        if textual:
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body = None
        if body is None:
            body, encoded = base64.b64encode(request.body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": the_api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.key,
            "stage": api.stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if parameters:
        event["pathParameters"] = parameters
    if api.stage_variables:
        event["stageVariables"] = api.stage_variables
    if body is not None:
        event["body"] = body
    return event


def response_v2(result: Any) -> HttpResponse | None:
    """An HTTP API's response to a payload 2.0 result (None: malformed, a 500)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        if not isinstance(value, str | int | float | bool):
            return None
        headers.append((str(name), str(value).lower() if isinstance(value, bool) else str(value)))
    for cookie in result.get("cookies") or []:
        headers.append(("Set-Cookie", str(cookie)))
    if "content-type" not in {name.lower() for name, _ in headers}:
        headers.append(("Content-Type", "application/json"))
    declared_body = result.get("body")
    body = declared_body if isinstance(declared_body, str | None) else json.dumps(declared_body)
    raw = (body or "").encode()
    if result.get("isBase64Encoded") is True and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            return None
    return HttpResponse(status, headers, raw)
