"""Routes about the API itself: health, the OpenAPI document, and the UI's sign-in configuration."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from serverless_crud import settings
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


@routes.route("/config.json", "GET")
def sign_in_configuration() -> Response[str]:
    """What the UI signs in with: the user pool, its app client and where Cognito answers (nothing
    secret: a browser app's client has no secret), the largest request body and import."""
    current = settings.current()
    body = {
        "auth_mode": current.auth_mode,
        "user_pool_id": current.user_pool_id if current.signs_in else "",
        "client_id": current.user_pool_client_id if current.signs_in else "",
        "cognito_endpoint": current.cognito_endpoint if current.signs_in else "",
        # A bigger import goes through POST /imports/uploads (the UI decides before sending it), up
        # to the import size limit (a bigger file is refused before it is sent).
        "max_body_bytes": current.max_body_bytes,
        "max_import_bytes": current.max_import_bytes,
    }
    return json_response(200, body, {"Cache-Control": "no-store"})
