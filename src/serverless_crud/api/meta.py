"""Routes about the API itself: health and the OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from serverless_crud.api.responses import json_response
from serverless_crud.api.routing import Routes

routes = Routes()


@routes.route("/health", "GET")
def health() -> Response[str]:
    return json_response(200, {"status": "ok"}, {"Cache-Control": "no-store"})


@routes.route("/openapi.json", "GET")
def openapi_document() -> Response[str]:
    from serverless_crud.api.openapi import openapi

    return json_response(200, openapi(), {"Cache-Control": "public, max-age=300"})
