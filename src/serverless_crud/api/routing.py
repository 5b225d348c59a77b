"""Routes, each declared once, with its handler: method, path, who may call it, and what the OpenAPI
document says of it (parameters, request body, responses). Everything else derives from these
declarations: the Powertools routes and the 405 answers (api/app.py), the published OpenAPI document
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

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

Handler = TypeVar("Handler", bound=Callable[..., Any])
#: The methods API Gateway's ANY passes to the function, except OPTIONS (CORS preflight).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Who may call a route: a signed-in user (API Gateway's authorizer, and the API key when the
#: stack requires one), or anyone (the UI's pages, /health, the OpenAPI document).
Access = Literal["signed-in", "public"]
SIGNED_IN: Access = "signed-in"
PUBLIC: Access = "public"
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
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
    #: The OpenAPI requestBody, if any.
    body: Mapping[str, Any] | None = None
    #: The success responses (status -> OpenAPI response object).
    responses: Mapping[str, Any] = field(default_factory=dict)
    #: The problem+json statuses the operation may answer, and what each means here.
    errors: tuple[str, ...] = ()
    problems: Mapping[str, str] = field(default_factory=dict)
    #: Statuses it answers only when sign-in is on (a signed-in route: the authorizer's 401 at least).
    signed_in_errors: tuple[str, ...] = ("401",)
    #: Whether it honours If-Match / If-None-Match (412; 428 when the API requires If-Match).
    preconditions: bool = False

    @property
    def rule(self) -> str:
        """The path in Powertools' syntax (`/records/<email>/<id>`)."""
        return _PARAMETER.sub(r"<\1>", self.path)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The names of the path's parameters, in order."""
        return tuple(_PARAMETER.findall(self.path))

    def example_path(self, values: Mapping[str, str] | None = None) -> str:
        """A concrete path of this route (each parameter `x`, or the value given for it)."""
        given = values or {}
        return _PARAMETER.sub(lambda m: given.get(m.group(1), "x"), self.path)


class Routes:
    """One route module's routes: their declarations and the Powertools router that serves them."""

    def __init__(self, *, access: Access, problems: Mapping[str, str] | None = None) -> None:
        self.router = Router()  # type: ignore[no-untyped-call]
        self.access = access
        self.problems = problems or {}
        self.declared: list[Route] = []

    @property
    def methods(self) -> dict[str, set[str]]:
        """The methods of each Powertools rule."""
        found: dict[str, set[str]] = {}
        for route in self.declared:
            found.setdefault(route.rule, set()).add(route.method)
        return found

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
            self.router.route(route.rule, method=[method])(function)
            return function

        return decorator

    def errors(self, *exceptions: type[Exception]) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of `exceptions`."""
        register = self.router.exception_handler(list(exceptions))

        def decorator(function: Handler) -> Handler:
            register(function)
            return function

        return decorator

    @property
    def event(self) -> APIGatewayProxyEvent:
        """The event being resolved."""
        event: APIGatewayProxyEvent = self.router.current_event  # type: ignore[assignment]
        return event
