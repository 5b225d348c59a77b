"""The route registry every route module uses: a Powertools Router and the methods of each rule.

A route module creates `routes = Routes()`, registers its handlers with `routes.route(...)` and is
listed in `api.app.ROUTE_MODULES`; nothing else changes to add one. The methods are kept here so
that the resolver can answer 405 with a true Allow header through Powertools' own matching.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

Handler = TypeVar("Handler", bound=Callable[..., Any])
#: The methods API Gateway's ANY passes to the function, except OPTIONS (CORS preflight).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Routes:
    """One route module's routes."""

    def __init__(self) -> None:
        self.router = Router()  # type: ignore[no-untyped-call]
        self.methods: dict[str, set[str]] = {}

    def route(self, rule: str, *methods: str) -> Callable[[Handler], Handler]:
        """Register the decorated function for `methods` on `rule` (GET also answers HEAD)."""
        self.methods.setdefault(rule, set()).update(methods)
        register = self.router.route(rule, method=list(methods))

        def decorator(function: Handler) -> Handler:
            register(function)
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
