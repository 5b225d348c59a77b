"""Routes about the API itself: health and the UI's configuration (the OpenAPI document, made from
every route's declaration, is api/app.py's own route)."""

from __future__ import annotations

from serverless_crud import settings
from serverless_crud.api.documentation import content
from serverless_crud.api.responses import Response, json_response
from serverless_crud.api.routing import PUBLIC, Routes

routes = Routes(access=PUBLIC)


@routes.route(
    "/health",
    "GET",
    operation_id="health",
    summary="Liveness",
    responses={
        "200": {
            "description": "Up",
            **content({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}),
        }
    },
)
def health() -> Response:
    return json_response(200, {"status": "ok"}, {"Cache-Control": "no-store"})


@routes.route("/config.json", "GET")
def sign_in_configuration() -> Response:
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
