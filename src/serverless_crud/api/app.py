"""The API: Powertools' APIGatewayRestResolver with every route module's declared routes, and the
OpenAPI document made from those declarations.

To add a route module, write it with `routes = Routes(access=...)` (see `api.routing`) and list it in
ROUTE_MODULES. Route modules import `api.routing`, never this module, so dependencies point one way.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response

from serverless_crud import settings
from serverless_crud.api import failures, jobs, meta, records, ui
from serverless_crud.api.problems import problem_response
from serverless_crud.api.responses import json_response
from serverless_crud.api.routing import METHODS, PUBLIC, Route, Routes

#: This module's own route: the document describing every route.
document_routes = Routes(access=PUBLIC)
#: The route modules, in matching order; errors last.
ROUTE_MODULES = (records, jobs, meta, ui, document_routes, failures)
EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "Allow", "Idempotent-Replayed"]


def declared() -> list[Route]:
    """Every declared route, in matching order."""
    return [route for module in ROUTE_MODULES for route in _routes(module).declared]


def _routes(module: Any) -> Routes:
    found: Routes = module if isinstance(module, Routes) else module.routes
    return found


@document_routes.route("/openapi.json", "GET", responses={"200": {"description": "This document"}})
def openapi_document() -> Response[str]:
    from serverless_crud.api.openapi import openapi

    return json_response(200, openapi(declared()), {"Cache-Control": "public, max-age=300"})


def _method_not_allowed(allow: str) -> Any:
    def handler(**_: str) -> Response[str]:
        return problem_response(
            405, f"this method is not allowed here; use {allow}", headers={"Allow": allow}
        )

    return handler


@settings.per_settings
def resolver(current: settings.Settings) -> APIGatewayRestResolver:
    """The resolver for these settings (CORS), with every route module's routes.

    For each rule, the methods no module registered answer 405 with Allow: Powertools' own route
    matching decides, so Allow is always true to the routes.
    """
    first, *others = current.allowed_origins
    cors = CORSConfig(
        allow_origin=first,
        extra_origins=others,
        allow_headers=["If-Match", "If-None-Match", "Idempotency-Key"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app = APIGatewayRestResolver(cors=cors)
    modules = [_routes(module) for module in ROUTE_MODULES]
    for routes in modules:
        app.include_router(routes.router)
    for routes in modules:
        for rule, methods in routes.methods.items():
            allowed = methods | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}
            if others := [m for m in METHODS if m not in methods]:
                app.route(rule, method=others)(_method_not_allowed(", ".join(sorted(allowed))))
    return app


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one REST proxy event; HEAD is answered as GET without the body (RFC 9110)."""
    head = event.get("httpMethod") == "HEAD"
    response = resolver().resolve({**event, "httpMethod": "GET"} if head else event, context)
    if "*" not in settings.current().allowed_origins:
        # The CORS headers depend on the request's Origin: shared caches must not mix them up.
        response.setdefault("multiValueHeaders", {}).setdefault("Vary", []).append("Origin")
    return {**response, "body": "", "isBase64Encoded": False} if head else response
