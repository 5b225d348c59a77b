"""The web UI's routes: pages, assets and Swagger UI, served by `api.static_files` (imported on the
first UI request, so the UI adds nothing to the API's cold start but these few lines)."""

from __future__ import annotations

from typing import Any

from serverless_crud.api.responses import Response
from serverless_crud.api.routing import PUBLIC, Routes

routes = Routes(access=PUBLIC)

PAGES = {
    "/": "index.html",
    "/index.html": "index.html",
    "/view.html": "view.html",
    "/edit.html": "edit.html",
    "/success.html": "success.html",
    "/deleted.html": "deleted.html",
    "/signin.html": "signin.html",
    "/import.html": "import.html",
    "/docs": "docs.html",
}


def _page(path: str) -> Any:
    def handler() -> Response:
        from serverless_crud.api import static_files

        return static_files.page(routes.event, path, PAGES[path])

    handler.__name__ = "page_" + PAGES[path].replace(".", "_")
    return handler


for _path in PAGES:
    routes.route(_path, "GET")(_page(_path))


@routes.route("/assets/{name}", "GET")
def asset(name: str) -> Response:
    from serverless_crud.api import static_files

    return static_files.asset(routes.event, "assets", name)


@routes.route("/vendor/swagger-ui/{name}", "GET")
def swagger_ui_asset(name: str) -> Response:
    from serverless_crud.api import static_files

    return static_files.asset(routes.event, "vendor/swagger-ui", name)
