"""The template as the local services see it (`LocalTemplate`: resources and events by type), and
what the Lambda and API Gateway services read from it: functions, APIs, routes and their `Auth`.

Only what a service runs is resolved, so anything else in the template (alarms, log groups,
certificates, resources with intrinsics that have no local value) is tolerated and listed as ignored.
"""

from __future__ import annotations

import copy
import dataclasses
import posixpath
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serverless_local.code_cache import archive_directory, inline_code_directory
from serverless_local.services.apigateway import request_validation
from serverless_local.services.apigateway.request_validation import RequestCheck
from serverless_local.template import (
    DYNAMIC_REFERENCE,
    Resolver,
    TemplateError,
    Unresolvable,
    load_template,
)

FUNCTION_TYPE = "AWS::Serverless::Function"
API_TYPE = "AWS::Serverless::Api"
#: SAM's implicit API, used by `Api` events without a RestApiId, and its stage.
IMPLICIT_API = "ServerlessRestApi"
IMPLICIT_STAGE = "Prod"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: Lambda's defaults when neither the function nor Globals say.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128


@dataclass(frozen=True)
class FunctionLogging:
    """Where and how a function's output is logged (SAM `LoggingConfig`)."""

    #: The log group; Lambda's default is /aws/lambda/<function name>.
    group: str
    #: Text or JSON (Lambda's own lines and the root logger's records).
    format: str = "Text"
    #: With the JSON format: the lowest level of the function's records and of Lambda's own lines.
    application_level: str | None = None
    system_level: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """One `AWS::Serverless::Function` as the local runtime runs it."""

    logical_id: str
    name: str
    handler: str
    #: The directory of its code (for InlineCode, the cache directory it is written to).
    code_uri: Path
    timeout: float
    memory_mb: int
    environment: dict[str, str]
    #: Variables whose value only AWS can provide: name -> why (the runtime substitutes a local value).
    unresolved: dict[str, str] = field(default_factory=dict)
    #: What the template declares (Lambda's answers report them; the local runtime runs its own
    #: Python whatever the version; "" when not declared).
    runtime: str = ""
    architecture: str = "x86_64"
    #: SAM `InlineCode`: Lambda keeps it as `index.py` (written to `code_uri` before the function runs).
    inline_code: str | None = None
    #: A zip file `CodeUri` (a built package): unpacked to `code_uri` before the function runs.
    archive: Path | None = None
    #: SAM `Layers`: logical ids of the template's layers, or ARNs of layers that exist only in AWS.
    layers: tuple[str, ...] = ()
    #: `Metadata.BuildMethod` (`makefile`: `sam build` runs the project's own build, so no
    #: requirements.txt is installed for it); None: SAM's default, pip.
    build_method: str | None = None
    #: SAM `AutoPublishAlias` (its `Ref` is the alias ARN).
    alias: str | None = None
    logging: FunctionLogging | None = None
    #: The template's `EventInvokeConfig` and `DeadLetterQueue`, as written (resolved once the
    #: queues and topics they name exist).
    event_invoke_config: dict[str, Any] = field(default_factory=dict)
    dead_letter_queue: dict[str, Any] = field(default_factory=dict)

    @property
    def log_group(self) -> str:
        """The log group its output goes to."""
        return self.logging.group if self.logging is not None else f"/aws/lambda/{self.name}"

    @property
    def arn(self) -> str:
        """Its ARN (unqualified)."""
        from serverless_local.template import function_arn

        return function_arn(self.name)


@dataclass(frozen=True)
class LayerSpec:
    """One `AWS::Serverless::LayerVersion` (or `AWS::Lambda::LayerVersion`) with local content."""

    logical_id: str
    content: Path
    build_method: str | None = None

    def paths(self, runtime: str) -> list[Path]:
        """The directories its content adds to a function's import path, as Lambda's /opt does.

        A layer built by `sam build` from a Python source directory (BuildMethod python3.x) is that
        directory; a prebuilt one has its modules under python/ (and python/lib/<runtime>/site-packages).
        """
        if self.build_method and self.build_method.startswith("python"):
            return [self.content]
        runtime = runtime or f"python{sys.version_info.major}.{sys.version_info.minor}"
        found = [self.content / "python" / "lib" / runtime / "site-packages", self.content / "python"]
        return [path for path in found if path.is_dir()]


@dataclass(frozen=True)
class Cors:
    """The API's CORS configuration (SAM `Cors`), answered by the gateway for OPTIONS."""

    allow_origin: str
    allow_methods: str | None = None
    allow_headers: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class ApiSpec:
    """One REST API and its stage."""

    logical_id: str
    stage: str
    cors: Cors | None = None
    binary_media_types: tuple[str, ...] = ()
    stage_variables: dict[str, str] | None = None
    #: GatewayResponses: response type -> headers added to the gateway's own errors.
    gateway_response_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    #: SAM `Auth`: the Authorizers by name (as declared), the default one, the API key default.
    authorizers: dict[str, Any] = field(default_factory=dict)
    default_authorizer: str | None = None
    api_key_required: bool = False
    authorize_preflight: bool = True
    #: SAM `Models`: name -> JSON Schema (request validation).
    models: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteAuth:
    """What the gateway checks before a route's function runs (SAM `Auth` of the API and the event)."""

    #: The name of one of the API's Authorizers, or None (open).
    authorizer: str | None = None
    api_key_required: bool = False


@dataclass(frozen=True)
class Route:
    """An `Api` event: a resource path (API Gateway syntax) and a method, served by a function."""

    api: str
    path: str
    method: str
    function: str
    auth: RouteAuth = RouteAuth()
    #: What the API's OpenAPI body (DefinitionBody) says of single methods of an ANY route (OPTIONS
    #: left open, say): method -> its checks.
    method_auth: dict[str, RouteAuth] = field(default_factory=dict)
    #: What API Gateway validates of its requests (a request validator), if anything.
    check: RequestCheck | None = None

    def auth_for(self, method: str) -> RouteAuth:
        """The checks of a request with this method."""
        return self.method_auth.get(method, self.auth)


@dataclass(frozen=True)
class Resource:
    """One enabled resource of the template: its type and its properties (SAM Globals merged in)."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    #: The resource's `Metadata` (SAM's `BuildMethod`, say).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    """One entry of a function's (or state machine's) `Events`: its type and raw properties."""

    owner: str
    event_id: str
    type: str
    properties: dict[str, Any]


#: SAM's Globals sections by resource type.
_GLOBALS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::StateMachine": "StateMachine",
}


class LocalTemplate:
    """A template as every service sees it: resources by type, events by type, one resolver."""

    def __init__(
        self, path: str | Path, overrides: Mapping[str, Any] | None = None, stack_name: str | None = None
    ) -> None:
        self.path = Path(path)
        self.base = self.path.resolve().parent
        self.document = load_template(path)
        self.resolver = Resolver.for_template(self.document, overrides)
        if stack_name is not None:
            self.resolver.stack_name = stack_name
        self.resources: dict[str, Resource] = {}
        for logical_id, resource in self.document["Resources"].items():
            if not isinstance(resource, dict) or not _enabled(self.resolver, logical_id):
                continue
            kind = str(resource.get("Type"))
            properties = resource.get("Properties") or {}
            if kind in _GLOBALS:
                properties = _with_globals(self.document, _GLOBALS[kind], properties)
            metadata = resource.get("Metadata")
            self.resources[logical_id] = Resource(
                logical_id, kind, properties, metadata if isinstance(metadata, dict) else {}
            )

    def of_type(self, types: Iterable[str]) -> list[Resource]:
        """The enabled resources of these types, in template order."""
        wanted = set(types)
        return [r for r in self.resources.values() if r.type in wanted]

    def events(self, types: Iterable[str] | None = None) -> list[Event]:
        """Every event of every resource with `Events` (functions, state machines), or those of `types`."""
        found = []
        for resource in self.resources.values():
            events = resource.properties.get("Events") or {}
            if not isinstance(events, dict):
                continue
            for event_id, event in events.items():
                kind = str(event.get("Type")) if isinstance(event, dict) else str(event)
                if types is None or kind in types:
                    properties = (event.get("Properties") or {}) if isinstance(event, dict) else {}
                    found.append(Event(resource.logical_id, event_id, kind, properties))
        return found

    def resolve(self, value: Any, where: str) -> Any:
        """Resolve `value`; a TemplateError names `where` it came from."""
        try:
            return self.resolver.resolve(value)
        except TemplateError as error:
            raise TemplateError(f"{where}: {error}") from None


def read_functions(template: LocalTemplate, not_run: list[str] | None = None) -> dict[str, FunctionSpec]:
    """Every `AWS::Serverless::Function` of the template the local Lambda runs; those it cannot
    run for a reason AWS would not refuse (another runtime) are described in `not_run`."""
    functions = {}
    for resource in template.of_type([FUNCTION_TYPE]):
        try:
            functions[resource.logical_id] = _function(template, resource)
        except NotRunLocally as reason:
            if not_run is None:
                raise
            not_run.append(str(reason))
    return functions


def read_apis(template: LocalTemplate) -> tuple[dict[str, ApiSpec], list[Route]]:
    """The REST APIs the template's `Api` events use, and those routes, with the routes each API's
    OpenAPI body (DefinitionBody) sends to a function of the template (an `aws_proxy` integration),
    as API Gateway routes them without any event."""
    events = template.events(["Api"])
    evented = [_route(template, event) for event in events]
    declared = {(route.api, route.path, route.method) for route in evented}
    integrated = [r for r in _integration_routes(template) if (r.api, r.path, r.method) not in declared]
    routes = evented + integrated
    api_ids = sorted({route.api for route in routes})
    apis = {api_id: _api(template.document, template.resolver, api_id) for api_id in api_ids}
    bodies = {api_id: _definition_body(template, api_id) for api_id in api_ids}
    found = []
    for route, event in zip(evented, events, strict=True):
        api = apis[route.api]
        route = _from_body(_with_default_auth(route, api), bodies[route.api])
        where = f"function {event.owner}: event {event.event_id}"
        checks = {
            k: event.properties[k] for k in ("RequestModel", "RequestParameters") if k in event.properties
        }
        resolved = template.resolve(checks, where)
        check = request_validation.from_sam(
            resolved.get("RequestModel"), resolved.get("RequestParameters"), api.models
        )
        if check is not None:
            if check.schema is None and isinstance(resolved.get("RequestModel"), dict):
                model = resolved["RequestModel"].get("Model")
                raise TemplateError(f"{where}: RequestModel {model} is not one of the API's Models")
            route = dataclasses.replace(route, check=check)
        found.append(route)
    found += [_from_body(_with_default_auth(r, apis[r.api]), bodies[r.api]) for r in integrated]
    return apis, found


def _enabled(resolver: Resolver, logical_id: str) -> bool:
    try:
        return resolver.resource_enabled(logical_id)
    except TemplateError as error:
        raise TemplateError(f"resource {logical_id}: {error}") from None


def _merge(defaults: Any, overrides: Any) -> Any:
    """SAM's Globals rule: maps merge key by key, anything else is replaced by the resource's value."""
    if isinstance(defaults, dict) and isinstance(overrides, dict):
        merged = dict(defaults)
        for key, value in overrides.items():
            merged[key] = _merge(defaults[key], value) if key in defaults else value
        return merged
    return overrides


def _with_globals(template: Mapping[str, Any], kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    defaults = ((template.get("Globals") or {}).get(kind)) or {}
    return dict(_merge(copy.deepcopy(defaults), properties))


#: Runtimes whose functions run here (the local interpreter runs them, whatever its minor version).
PYTHON_RUNTIME = re.compile(r"python3\.\d+")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


class NotRunLocally(TemplateError):
    """A function the local runtime does not run (another runtime, a container image); listed, not fatal."""


def _function(template: LocalTemplate, resource: Resource) -> FunctionSpec:
    logical_id, properties = resource.logical_id, resource.properties
    resolver = template.resolver

    def value(name: str, default: Any = None) -> Any:
        try:
            resolved = resolver.resolve(properties.get(name, default))
        except TemplateError as error:
            raise TemplateError(f"function {logical_id}: cannot read {name}: {error}") from None
        return default if resolved is None else resolved

    runtime = str(value("Runtime", "") or "")
    if properties.get("PackageType") == "Image" or "ImageUri" in properties:
        raise NotRunLocally(f"{logical_id} is a container image function")
    if runtime and not PYTHON_RUNTIME.fullmatch(runtime):
        raise NotRunLocally(f"{logical_id} runs on {runtime}: only Python functions run locally")
    archive: Path | None = None
    handler = value("Handler")
    module, _, function = str(handler).rpartition(".")
    if not isinstance(handler, str) or not module or not function or module.endswith("/"):
        raise TemplateError(f"function {logical_id}: Handler must be 'module.function', not {handler!r}")
    inline = value("InlineCode")
    if inline is not None:
        code_dir = inline_code_directory(str(inline))
    else:
        code_uri = value("CodeUri", ".")
        if isinstance(code_uri, dict) or not isinstance(code_uri, str) or "://" in code_uri:
            raise TemplateError(f"function {logical_id}: CodeUri must be a local directory, not {code_uri!r}")
        code_dir = (template.base / code_uri).resolve()
        if code_dir.is_file() and code_dir.suffix == ".zip":  # a built package: run from it unpacked
            archive, code_dir = code_dir, archive_directory(code_dir)
    environment, unresolved = _environment(resolver, logical_id, properties)
    try:
        timeout, memory = float(value("Timeout", DEFAULT_TIMEOUT)), int(value("MemorySize", DEFAULT_MEMORY))
    except (TypeError, ValueError):
        raise TemplateError(f"function {logical_id}: Timeout and MemorySize must be numbers") from None
    name = str(value("FunctionName", logical_id))
    return FunctionSpec(
        logical_id=logical_id,
        name=name,
        handler=handler,
        code_uri=code_dir,
        timeout=timeout,
        memory_mb=memory,
        environment=environment,
        unresolved=unresolved,
        runtime=runtime,
        architecture=str((value("Architectures") or ["x86_64"])[0]),
        inline_code=None if inline is None else str(inline),
        archive=archive,
        layers=tuple(_layers(template, logical_id, properties.get("Layers"))),
        build_method=_build_method(resource),
        alias=None if properties.get("AutoPublishAlias") is None else str(value("AutoPublishAlias")),
        logging=_logging(name, value("LoggingConfig")),
        event_invoke_config=dict(properties.get("EventInvokeConfig") or {}),
        dead_letter_queue=dict(properties.get("DeadLetterQueue") or {}),
    )


def _build_method(resource: Resource) -> str | None:
    method = resource.metadata.get("BuildMethod")
    return str(method) if method else None


def _layers(template: LocalTemplate, logical_id: str, declared: Any) -> list[str]:
    """Each of `Layers`: a template layer's logical id (a `Ref` to it), or the ARN it resolves to."""
    layers = []
    for entry in declared if isinstance(declared, list) else []:
        named = entry.get("Ref") if isinstance(entry, dict) and len(entry) == 1 else None
        target = template.resources.get(str(named)) if named is not None else None
        if target is not None and target.type in LAYER_TYPES:
            layers.append(target.logical_id)
        else:
            layers.append(str(template.resolve(entry, f"function {logical_id}: Layers")))
    return layers


def _logging(name: str, config: Any) -> FunctionLogging | None:
    if not isinstance(config, dict):
        return None
    log_format = str(config.get("LogFormat") or "Text")
    levels = {k: str(config[k]).upper() for k in ("ApplicationLogLevel", "SystemLogLevel") if config.get(k)}
    if log_format == "JSON":  # Lambda's defaults with the JSON format
        levels.setdefault("ApplicationLogLevel", "INFO")
        levels.setdefault("SystemLogLevel", "INFO")
    return FunctionLogging(
        group=str(config.get("LogGroup") or f"/aws/lambda/{name}"),
        format=log_format,
        application_level=levels.get("ApplicationLogLevel"),
        system_level=levels.get("SystemLogLevel"),
    )


def read_layers(template: LocalTemplate) -> dict[str, LayerSpec]:
    """The template's layers whose content is a local directory, by logical id."""
    layers = {}
    for resource in template.of_type(LAYER_TYPES):
        declared = resource.properties.get("ContentUri", resource.properties.get("Content"))
        content = template.resolve(declared, f"layer {resource.logical_id}")
        if isinstance(content, str) and "://" not in content:
            layers[resource.logical_id] = LayerSpec(
                resource.logical_id, (template.base / content).resolve(), _build_method(resource)
            )
    return layers


def _environment(
    resolver: Resolver, logical_id: str, properties: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    raw = ((properties.get("Environment") or {}).get("Variables")) or {}
    environment: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    for name, expression in raw.items():
        try:
            resolved = resolver.resolve(expression)
        except Unresolvable as error:
            unresolved[name] = str(error)
            continue
        except TemplateError as error:
            raise TemplateError(f"function {logical_id}: environment variable {name}: {error}") from None
        text = _env_text(resolved)
        if DYNAMIC_REFERENCE in text:
            unresolved[name] = f"the dynamic reference {text!r} is resolved by CloudFormation"
        else:
            environment[name] = text
    return environment, unresolved


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _route(template: LocalTemplate, event: Event) -> Route:
    """An `Api` event as a route; only the properties the gateway uses are resolved."""
    where = f"function {event.owner}: event {event.event_id}"
    declared = event.properties
    properties = {
        k: template.resolve(declared[k], where) for k in ("Path", "Method", "RestApiId") if k in declared
    }
    try:
        path, method = str(properties["Path"]), str(properties["Method"]).upper()
    except KeyError as error:
        raise TemplateError(f"{where}: cannot read it ({error})") from None
    if method not in (*HTTP_METHODS, "ANY"):
        raise TemplateError(f"{where}: unknown method {method}")
    if not path.startswith("/"):
        raise TemplateError(f"{where}: Path must start with /")
    api = str(properties.get("RestApiId") or IMPLICIT_API)
    auth = _auth(template.resolver, declared.get("Auth"), ("Authorizer", "ApiKeyRequired"), where)
    route_auth = RouteAuth(auth.get("Authorizer"), bool(auth.get("ApiKeyRequired")))
    return Route(api, posixpath.normpath(path) if path != "/" else "/", method, event.owner, route_auth)


def _with_default_auth(route: Route, api: ApiSpec) -> Route:
    """The API's DefaultAuthorizer (and ApiKeyRequired) apply where the event names none; NONE opens."""
    authorizer = route.auth.authorizer or api.default_authorizer
    if authorizer == "NONE" or (route.method == "OPTIONS" and not api.authorize_preflight):
        authorizer = None
    auth = RouteAuth(authorizer, route.auth.api_key_required or api.api_key_required)
    return dataclasses.replace(route, auth=auth)


#: An integration's Lambda ARN in a `Fn::Sub` of its uri: `${Function.Arn}`, `${Function}` or
#: `${FunctionAlias<name>}` (the alias SAM makes for AutoPublishAlias).
_INTEGRATED = re.compile(r"/functions/\$\{([A-Za-z0-9]+)(?:\.Arn)?\}(?::[A-Za-z0-9$_-]+)?/invocations")


def _integration_routes(template: LocalTemplate) -> list[Route]:
    """The routes of every API's DefinitionBody whose integration is a proxy to a template function."""
    functions = {r.logical_id: r for r in template.of_type([FUNCTION_TYPE])}
    aliases = {
        f"{logical_id}Alias{alias}": logical_id
        for logical_id, resource in functions.items()
        if isinstance(alias := resource.properties.get("AutoPublishAlias"), str)
    }
    routes = []
    for api in template.of_type([API_TYPE]):
        body = api.properties.get("DefinitionBody")
        if not isinstance(body, dict):
            continue
        where = f"API {api.logical_id}: DefinitionBody"
        try:
            paths = template.resolver.conditional(body.get("paths") or {})
        except TemplateError as error:
            raise TemplateError(f"{where}: {error}") from None
        for path, methods in (paths if isinstance(paths, dict) else {}).items():
            found = {}
            for method, operation in (methods if isinstance(methods, dict) else {}).items():
                integration = (
                    operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
                )
                if not isinstance(integration, dict) or integration.get("type") != "aws_proxy":
                    continue
                name = "ANY" if method == "x-amazon-apigateway-any-method" else str(method).upper()
                found[name] = _integrated_function(
                    integration.get("uri"), functions, aliases, f"{where}: {path} {name}"
                )
            for method, function in found.items():
                if method == "ANY" or found.get("ANY") != function:
                    routes.append(Route(api.logical_id, str(path), method, function))
    return routes


def _integrated_function(
    uri: Any, functions: Mapping[str, Any], aliases: Mapping[str, str], where: str
) -> str:
    """The template function a proxy integration's uri invokes."""
    text = uri.get("Fn::Sub") if isinstance(uri, dict) else uri
    if isinstance(text, list):
        text = text[0]
    match = _INTEGRATED.search(text) if isinstance(text, str) else None
    if match is not None and match.group(1) in functions:
        return match.group(1)
    if match is not None and match.group(1) in aliases:
        return aliases[match.group(1)]
    raise TemplateError(f"{where}: the integration's uri names no function of the template ({uri!r})")


@dataclass(frozen=True)
class _Body:
    """The security an API's OpenAPI body (DefinitionBody) declares: per path and method, and its schemes."""

    #: path -> method (upper case, ANY for x-amazon-apigateway-any-method) -> security requirements.
    security: dict[str, dict[str, list[Any]]]
    #: scheme name -> the scheme as written (intrinsics in it resolved by its authorizer).
    schemes: dict[str, Any]
    #: path -> method -> its request validation.
    checks: dict[str, dict[str, RequestCheck]] = field(default_factory=dict)


def _definition_body(template: LocalTemplate, api_id: str) -> _Body:
    resource = template.resources.get(api_id)
    body = resource.properties.get("DefinitionBody") if resource is not None else None
    if not isinstance(body, dict):
        return _Body({}, {})
    where = f"API {api_id}: DefinitionBody"
    try:
        paths = template.resolver.conditional(body.get("paths") or {})
        schemes = template.resolver.conditional((body.get("components") or {}).get("securitySchemes") or {})
    except TemplateError as error:
        raise TemplateError(f"{where}: {error}") from None
    security: dict[str, dict[str, list[Any]]] = {}
    checks: dict[str, dict[str, RequestCheck]] = {}
    document = template.resolver.conditional({k: v for k, v in body.items() if k != "paths"})
    for path, methods in (paths if isinstance(paths, dict) else {}).items():
        for method, operation in (methods if isinstance(methods, dict) else {}).items():
            if not isinstance(operation, dict):
                continue
            name = "ANY" if method == "x-amazon-apigateway-any-method" else str(method).upper()
            if "security" in operation:
                security.setdefault(str(path), {})[name] = list(
                    template.resolve(operation["security"], where)
                )
            check = request_validation.from_openapi(document, operation)
            if check is not None:
                checks.setdefault(str(path), {})[name] = check
    return _Body(security, schemes if isinstance(schemes, dict) else {}, checks)


def _from_body(route: Route, body: _Body) -> Route:
    """The route with the checks its API's OpenAPI body declares (they are what API Gateway enforces)."""
    check = body.checks.get(route.path, {}).get(route.method)
    if check is not None:
        route = dataclasses.replace(route, check=check)
    declared = body.security.get(route.path)
    if not declared:
        return route
    by_method = {method: _requirements(security, body.schemes) for method, security in declared.items()}
    auth = by_method.get(route.method, route.auth)
    others = {m: a for m, a in by_method.items() if m != route.method} if route.method == "ANY" else {}
    return dataclasses.replace(route, auth=auth, method_auth=others)


def _requirements(security: list[Any], schemes: dict[str, Any]) -> RouteAuth:
    """RouteAuth of an OpenAPI security list: API Gateway's API key scheme, and at most one authorizer."""
    authorizer, api_key = None, False
    for requirement in security:
        for name in requirement if isinstance(requirement, dict) else ():
            scheme = schemes.get(name) or {}
            if "x-amazon-apigateway-authtype" in scheme or "x-amazon-apigateway-authorizer" in scheme:
                authorizer = name
            elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
                api_key = True
    return RouteAuth(authorizer, api_key)


#: The API properties the local gateway uses; the rest (DefinitionBody, access logs, method
#: settings...) may refer to resources that exist only in AWS, so they are never resolved.
API_PROPERTIES = ("StageName", "BinaryMediaTypes", "Variables", "Cors", "GatewayResponses", "Models")
#: Of `Auth`, what routing needs; each authorizer's own properties are resolved by its implementation
#: when it starts (a user pool's ARN exists only once the pool does).
_AUTH_PROPERTIES = ("DefaultAuthorizer", "ApiKeyRequired", "AddDefaultAuthorizerToCorsPreflight")


def _auth(resolver: Resolver, auth: Any, names: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(auth, dict):
        return {}
    try:
        return {name: resolver.resolve(auth[name]) for name in names if name in auth}
    except TemplateError as error:
        raise TemplateError(f"{where}: Auth: {error}") from None


def _api(template: Mapping[str, Any], resolver: Resolver, api_id: str) -> ApiSpec:
    resource = template["Resources"].get(api_id)
    if api_id == IMPLICIT_API and resource is None:
        return ApiSpec(api_id, IMPLICIT_STAGE)
    if not isinstance(resource, dict) or resource.get("Type") != API_TYPE:
        raise TemplateError(f"RestApiId {api_id} is not an {API_TYPE} in the template")
    declared = _with_globals(template, "Api", resource.get("Properties") or {})
    try:
        properties = {name: resolver.resolve(declared[name]) for name in API_PROPERTIES if name in declared}
    except TemplateError as error:
        raise TemplateError(f"API {api_id}: {error}") from None
    stage = properties.get("StageName")
    if not isinstance(stage, str) or not stage:
        raise TemplateError(f"API {api_id}: StageName is required")
    binary = tuple(str(t).replace("~1", "/") for t in properties.get("BinaryMediaTypes") or ())
    variables = properties.get("Variables")
    raw_auth: dict[str, Any] = declared["Auth"] if isinstance(declared.get("Auth"), dict) else {}
    auth = _auth(resolver, raw_auth, _AUTH_PROPERTIES, f"API {api_id}")
    return ApiSpec(
        logical_id=api_id,
        stage=stage,
        cors=_cors(api_id, properties.get("Cors")),
        binary_media_types=binary,
        stage_variables={k: str(v) for k, v in variables.items()} if variables else None,
        gateway_response_headers=_gateway_responses(properties.get("GatewayResponses") or {}),
        authorizers={**_body_authorizers(template, resolver, api_id), **(raw_auth.get("Authorizers") or {})},
        default_authorizer=auth.get("DefaultAuthorizer"),
        api_key_required=bool(auth.get("ApiKeyRequired")),
        authorize_preflight=bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True)),
        models=dict(properties.get("Models") or {}),
    )


def _body_authorizers(template: Mapping[str, Any], resolver: Resolver, api_id: str) -> dict[str, Any]:
    """The authorizer schemes of the API's OpenAPI body, as written (their ARNs resolved when used)."""
    body = ((template["Resources"].get(api_id) or {}).get("Properties") or {}).get("DefinitionBody")
    if not isinstance(body, dict):
        return {}
    try:
        schemes = resolver.conditional((body.get("components") or {}).get("securitySchemes") or {})
    except TemplateError as error:
        raise TemplateError(f"API {api_id}: DefinitionBody: {error}") from None
    return {
        name: scheme
        for name, scheme in (schemes if isinstance(schemes, dict) else {}).items()
        if isinstance(scheme, dict) and "x-amazon-apigateway-authtype" in scheme
    }


def _unquote(value: Any) -> str:
    """SAM's CORS and gateway-response values are quoted strings: "'*'" means *."""
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def _cors(api_id: str, cors: Any) -> Cors | None:
    if cors is None:
        return None
    if isinstance(cors, str):
        return Cors(allow_origin=_unquote(cors))
    if not isinstance(cors, dict) or "AllowOrigin" not in cors:
        raise TemplateError(f"API {api_id}: Cors must be a string or a map with AllowOrigin")

    def optional(name: str) -> str | None:
        return _unquote(cors[name]) if name in cors else None

    return Cors(
        allow_origin=_unquote(cors["AllowOrigin"]),
        allow_methods=optional("AllowMethods"),
        allow_headers=optional("AllowHeaders"),
        max_age=optional("MaxAge"),
        allow_credentials=bool(cors.get("AllowCredentials", False)),
    )


def _gateway_responses(responses: dict[str, Any]) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {}
    for kind, response in responses.items():
        declared = ((response or {}).get("ResponseParameters") or {}).get("Headers") or {}
        headers[kind] = {name: _unquote(v) for name, v in declared.items()}
    return headers


def ttls(template: Mapping[str, Any], resolver: Resolver) -> dict[str, dict[str, Any]]:
    """`UpdateTimeToLive` specifications by table name (TTL is not a CreateTable parameter)."""
    ttls: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        if not resolver.resource_enabled(logical_id):
            continue
        properties = resolver.resolve(resource.get("Properties") or {})
        spec = properties.get("TimeToLiveSpecification")
        if spec and spec.get("AttributeName"):
            enabled = str(spec.get("Enabled", True)).lower() == "true"
            ttls[properties.get("TableName") or logical_id] = {
                "AttributeName": spec["AttributeName"],
                "Enabled": enabled,
            }
    return ttls


def path_pattern(resource_path: str) -> re.Pattern[str]:
    """A regular expression matching request paths (percent-encoded) against an API resource path."""
    if resource_path == "/":
        return re.compile("^/$")
    parts = []
    for segment in resource_path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{_group(segment[1:-2])}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{_group(segment[1:-1])}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$")


def _group(name: str) -> str:
    """Path parameter names may hold characters a regex group name cannot: encode them."""
    return "p_" + name.encode().hex()


def group_name(group: str) -> str:
    """The path parameter name behind a regex group made by `path_pattern`."""
    return bytes.fromhex(group[2:]).decode()
