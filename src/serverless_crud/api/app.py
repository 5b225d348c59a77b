"""The API: every route module's declared routes, dispatched by method and path, with CORS on every
answer, 405 with a true Allow, CORS preflights, and errors as problem+json; and the OpenAPI document
made from the declarations.

To add a route module, write it with `routes = Routes(access=...)` (see `api.routing`) and list it in
ROUTE_MODULES. Route modules import `api.routing`, never this module, so dependencies point one way.
The dispatch is the project's own (a dictionary of paths and the declared patterns): Powertools'
resolver cost ~37 µs a request and its package ~25 ms of every cold start (decision 102).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from serverless_crud import settings
from serverless_crud.api import failures, history, jobs, meta, records, ui
from serverless_crud.api.problems import PROBLEM_JSON, problem_response
from serverless_crud.api.request import Request
from serverless_crud.api.responses import Response, json_response
from serverless_crud.api.routing import CURRENT, METHODS, PUBLIC, NotFound, Route, Routes
from serverless_crud.api.security_headers import add_security_headers

#: This module's own route: the document describing every route.
document_routes = Routes(access=PUBLIC)
#: The route modules, in matching order; errors last.
ROUTE_MODULES = (records, history, jobs, meta, ui, document_routes, failures)
EXPOSED_HEADERS = ("ETag", "Location", "Retry-After", "Allow", "Idempotent-Replayed")
#: The request headers a browser may send cross-origin (beyond the CORS-safelisted ones).
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Amz-Date",
    "X-Amz-Security-Token",
    "X-Api-Key",
)
PREFLIGHT_MAX_AGE = "600"


def _routes(module: Any) -> Routes:
    found: Routes = module if isinstance(module, Routes) else module.routes
    return found


def declared() -> list[Route]:
    """Every declared route, in matching order."""
    return [route for module in ROUTE_MODULES for route in _routes(module).declared]


@document_routes.route("/openapi.json", "GET", responses={"200": {"description": "This document"}})
def openapi_document() -> Response:
    from serverless_crud.api.openapi import openapi

    return json_response(200, openapi(declared()), {"Cache-Control": "public, max-age=300"})


@dataclass(frozen=True)
class _Path:
    """The routes of one path template, by method."""

    handlers: dict[str, tuple[Callable[..., Any], Route]]

    @property
    def allow(self) -> str:
        methods = set(self.handlers) | ({"HEAD"} if "GET" in self.handlers else set()) | {"OPTIONS"}
        return ", ".join(sorted(methods))


class Dispatcher:
    """The routes of every module, compiled once: a path without parameters is a dictionary lookup,
    the others are matched in declaration order."""

    def __init__(self, current: settings.Settings) -> None:
        self.static: dict[str, _Path] = {}
        self.dynamic: list[tuple[re.Pattern[str], str, _Path]] = []
        self.error_handlers: dict[type[Exception], Callable[[Any], Response]] = {}
        for module in map(_routes, ROUTE_MODULES):
            for route, handler in module.handlers.items():
                if route.parameter_names:
                    known = next((p for _, path, p in self.dynamic if path == route.path), None)
                    if known is None:
                        known = _Path({})
                        self.dynamic.append((route.pattern(), route.path, known))
                else:
                    known = self.static.setdefault(route.path, _Path({}))
                known.handlers[route.method] = (handler, route)
            for error, handler in module.error_handlers.items():
                self.error_handlers.setdefault(error, handler)
        self.origins = current.allowed_origins
        self.cors = {
            "Access-Control-Allow-Headers": ",".join(sorted(ALLOWED_HEADERS)),
            "Access-Control-Expose-Headers": ",".join(EXPOSED_HEADERS),
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        }
        self.vary = "*" not in self.origins

    def __call__(self, request: Request) -> Response:
        """The response to `request` (HEAD as GET; the caller drops the body)."""
        try:
            return self._dispatch(request)
        except Exception as error:  # every error has a handler: failures.py maps Exception last
            return self._handle(error)

    def _dispatch(self, request: Request) -> Response:
        method, path = request.http_method, request.path
        found = self.static.get(path)
        arguments: dict[str, str] = {}
        if found is None:
            for pattern, _, candidate in self.dynamic:
                match = pattern.match(path)
                if match is not None:
                    found, arguments = candidate, match.groupdict()
                    break
        if method == "OPTIONS":
            methods = ",".join(sorted({*METHODS, "OPTIONS"}))
            return Response(204, None, "", {"Access-Control-Allow-Methods": methods})
        if found is None or (method not in METHODS and method != "HEAD"):
            raise NotFound(path)
        entry = found.handlers.get("GET" if method == "HEAD" else method)
        if entry is None:
            allow = found.allow
            return problem_response(
                405, f"this method is not allowed here; use {allow}", headers={"Allow": allow}
            )
        handler, _ = entry
        response: Response = handler(**arguments)
        return response

    def _handle(self, error: Exception) -> Response:
        for kind in type(error).__mro__:
            handler = self.error_handlers.get(kind)
            if handler is not None:
                return handler(error)
        raise error

    def cors_headers(self, request: Request) -> dict[str, str]:
        """The CORS headers of an answer to this request's Origin (none for an origin not allowed)."""
        origin = request.headers.get("origin")
        if not origin:
            return {}
        if origin in self.origins:
            return {"Access-Control-Allow-Origin": origin, **self.cors}
        if "*" in self.origins:
            return {"Access-Control-Allow-Origin": "*", **self.cors}
        return {}


@settings.per_settings
def dispatcher(current: settings.Settings) -> Dispatcher:
    """The routes for these settings (CORS), compiled once."""
    return Dispatcher(current)


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one REST proxy event with its proxy response; HEAD is answered as GET without the body
    (RFC 9110). An error for a browser's navigation is an HTML page (api.error_pages); every response
    gets the security headers (api.security_headers)."""
    request = Request(event)
    CURRENT.request, CURRENT.context = request, context
    dispatch = dispatcher()
    response = dispatch(request)
    if response.headers.get("Content-Type", "").startswith(PROBLEM_JSON):
        from serverless_crud.api import error_pages  # (an error's first time only)

        if error_pages.wants_html(request):
            response = error_pages.html_error(request, response)
    headers = {**response.headers, **dispatch.cors_headers(request)}
    add_security_headers(request, headers)
    body = response.body
    encoded = isinstance(body, bytes)
    text = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    multi = {name: [value] for name, value in headers.items()}
    if dispatch.vary:
        # The CORS headers depend on the request's Origin: shared caches must not mix them up.
        multi.setdefault("Vary", []).append("Origin")
    if request.http_method == "HEAD":
        text, encoded = "", False
    return {
        "statusCode": response.status_code,
        "body": text,
        "isBase64Encoded": encoded,
        "multiValueHeaders": multi,
    }
