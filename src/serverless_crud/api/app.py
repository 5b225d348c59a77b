"""The API's composition root: Powertools' APIGatewayRestResolver with every route module included.

To add a route module, write it with `routes = Routes()` (see `api.routing`) and list it in
ROUTE_MODULES. Route modules import `api.routing`, never this module, so dependencies point one way.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response

from serverless_crud import settings
from serverless_crud.api.problems import PROBLEM_JSON, problem_response
from serverless_crud.api.routing import METHODS, Routes
from serverless_crud.api.security_headers import add_security_headers

#: The route modules, in matching order (each holds `routes`); errors last.
ROUTE_MODULES = (
    "serverless_crud.api.records",
    "serverless_crud.api.jobs",
    "serverless_crud.api.meta",
    "serverless_crud.api.ui",
    "serverless_crud.api.failures",
)
EXPOSED_HEADERS = ["ETag", "Location", "Retry-After", "Allow", "Idempotent-Replayed"]


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
    modules: list[Routes] = [import_module(name).routes for name in ROUTE_MODULES]
    for routes in modules:
        app.include_router(routes.router)
    for routes in modules:
        for rule, methods in routes.methods.items():
            allowed = methods | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}
            if others := [m for m in METHODS if m not in methods]:
                app.route(rule, method=others)(_method_not_allowed(", ".join(sorted(allowed))))
    return app


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one REST proxy event; HEAD is answered as GET without the body (RFC 9110). An error
    for a browser's navigation is an HTML page (api.error_pages); every response gets the security
    headers (api.security_headers)."""
    head = event.get("httpMethod") == "HEAD"
    response = resolver().resolve({**event, "httpMethod": "GET"} if head else event, context)
    if _is_problem(response):
        from serverless_crud.api import error_pages  # (an error's first time only)

        if error_pages.wants_html(event):
            response = error_pages.html_error(event, response)
    if "*" not in settings.current().allowed_origins:
        # The CORS headers depend on the request's Origin: shared caches must not mix them up.
        response.setdefault("multiValueHeaders", {}).setdefault("Vary", []).append("Origin")
    add_security_headers(event, response)
    return {**response, "body": "", "isBase64Encoded": False} if head else response


def _is_problem(response: dict[str, Any]) -> bool:
    multi = response.get("multiValueHeaders") or {}
    types = multi.get("Content-Type") or [(response.get("headers") or {}).get("Content-Type", "")]
    return bool(types) and str(types[0]).startswith(PROBLEM_JSON)
