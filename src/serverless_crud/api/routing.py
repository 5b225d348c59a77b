"""Routes, each declared once, with its handler: method, path, who may call it, and what the OpenAPI
document says of it (parameters, request body, responses). Everything else derives from these
declarations: how requests are dispatched and the 405 answers (api/app.py), the published OpenAPI document
(api/openapi.py), the API Gateway definition in openapi/apigateway.json and template.yaml
(api/apigateway.py, `make schemas`), and the tests' lists of paths.

A route module creates `routes = Routes(access=...)`, declares its handlers with `routes.route(...)`
and is listed in `api.app.ROUTE_MODULES`; nothing else changes to add one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from serverless_crud import settings
from serverless_crud.api.request import Request

Handler = TypeVar("Handler", bound=Callable[..., Any])
#: The methods API Gateway's ANY passes to the function, except OPTIONS (CORS preflight).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Who may call a route: a signed-in user (API Gateway's authorizer, and the API key when the
#: stack requires one), or anyone (the UI's pages, /health, the OpenAPI document).
Access = Literal["signed-in", "public"]
SIGNED_IN: Access = "signed-in"
PUBLIC: Access = "public"
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: The characters of one path segment (RFC 3986 unreserved, sub-delims, ":" and "@", percent escapes,
#: and what clients send unescaped anyway).
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"


@dataclass(frozen=True, eq=False)
class Route:
    """One declared route: `path` is an OpenAPI path template (`/records/{email}/{id}`), each
    parameter one path segment, passed to the handler by name."""

    method: str
    path: str
    access: Access
    handler: str
    #: The OpenAPI operation's id; empty for a route the document leaves out (the UI's files).
    operation_id: str = ""
    summary: str = ""
    description: str = ""
    #: Parameters other than the path's (query, header), as OpenAPI parameter objects.
    parameters: tuple[Mapping[str, Any], ...] = ()
    #: The path's parameters, as OpenAPI parameter objects (their names are the path's).
    path_parameters: tuple[Mapping[str, Any], ...] = ()
    #: The OpenAPI requestBody, if any; or what makes it of the instance's settings (a limit that
    #: is a stack parameter).
    body: Mapping[str, Any] | Callable[[settings.Settings], Mapping[str, Any]] | None = None
    #: The success responses (status -> OpenAPI response object).
    responses: Mapping[str, Any] = field(default_factory=dict)
    #: The problem+json statuses the operation may answer, and what each means here.
    errors: tuple[str, ...] = ()
    problems: Mapping[str, str] = field(default_factory=dict)
    #: Statuses it answers only when sign-in is on (a signed-in route: the authorizer's 401 at least).
    signed_in_errors: tuple[str, ...] = ("401",)
    #: Whether it honours If-Match / If-None-Match (412; 428 when the API requires If-Match).
    preconditions: bool = False

    def pattern(self) -> re.Pattern[str]:
        """What the path's requests match: each parameter one segment, percent-encoded as API Gateway
        passes it, of the characters RFC 3986 allows in one (no `/`)."""
        pieces = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", self.path)
        pattern = "".join(
            f"(?P<{found.group(1)}>{_SEGMENT})"
            if (found := _PARAMETER.fullmatch(piece))
            else re.escape(piece)
            for piece in pieces
        )
        return re.compile(f"^{pattern}$")

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The names of the path's parameters, in order."""
        return tuple(_PARAMETER.findall(self.path))

    def example_path(self, values: Mapping[str, str] | None = None) -> str:
        """A concrete path of this route (each parameter `x`, or the value given for it)."""
        given = values or {}
        return _PARAMETER.sub(lambda m: given.get(m.group(1), "x"), self.path)


class NotFound(Exception):
    """No route has the request's path (failures.py answers it)."""


class Exchange:
    """The request being answered and its Lambda context (one at a time: Lambda runs one event per
    instance), set by the dispatcher for the routes to read."""

    request: Request
    context: Any = None


#: What every route module's `routes.event` and `routes.context` read.
CURRENT = Exchange()


class Routes:
    """One route module's routes: their declarations, handlers and error handlers."""

    def __init__(self, *, access: Access, problems: Mapping[str, str] | None = None) -> None:
        self.access = access
        self.problems = problems or {}
        self.declared: list[Route] = []
        self.handlers: dict[Route, Callable[..., Any]] = {}
        self.error_handlers: dict[type[Exception], Callable[[Any], Any]] = {}

    def route(self, path: str, method: str, **declaration: Any) -> Callable[[Handler], Handler]:
        """Declare the decorated function as the handler of `method` on `path` (GET also answers
        HEAD); `declaration` holds the other fields of `Route` (access and the problems' meanings
        default to the module's)."""

        def decorator(function: Handler) -> Handler:
            route = Route(
                method=method,
                path=path,
                handler=function.__name__,
                **{"access": self.access, "problems": self.problems, **declaration},
            )
            if (
                set(route.parameter_names) != {p["name"] for p in route.path_parameters}
                and route.operation_id
            ):
                raise ValueError(
                    f"{method} {path}: write parameters as {{name}}, each declared in path_parameters"
                )
            self.declared.append(route)
            self.handlers[route] = function
            return function

        return decorator

    def errors(self, *exceptions: type[Exception]) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of `exceptions` (and their subclasses)."""

        def decorator(function: Handler) -> Handler:
            self.error_handlers.update(dict.fromkeys(exceptions, function))
            return function

        return decorator

    @property
    def event(self) -> Request:
        """The request being answered."""
        return CURRENT.request

    @property
    def context(self) -> Any:
        """The Lambda context of the request being answered."""
        return CURRENT.context
