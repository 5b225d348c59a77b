"""The web UI as the Lambda serves it: pages, assets, Swagger UI; types, validators, gzip."""

from __future__ import annotations

import base64
import gzip
import re
import subprocess
import sys
from importlib import resources

import pytest

from tests.support.client import Headers
from tests.support.events import lambda_context, rest_event

PAGES = ["/", "/index.html", "/view.html", "/edit.html", "/success.html", "/docs"]
STATIC = resources.files("serverless_crud").joinpath("ui", "static")


class Raw:
    """A proxy response kept as bytes (the shared client decodes bodies as UTF-8 text)."""

    def __init__(self, response: dict) -> None:
        self.raw = response
        self.status = response["statusCode"]
        self.headers = Headers(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            self.headers.setdefault(name, ", ".join(values))


def gzip_get(api, path: str, **headers: str) -> Raw:
    """GET `path` accepting gzip, through the handler, as API Gateway would send it."""
    from serverless_crud.handler import lambda_handler

    event = rest_event("GET", path, headers={"Accept-Encoding": "gzip", **headers})
    api.events.append(event)
    return Raw(lambda_handler(event, lambda_context()))


def raw_body(reply) -> bytes:
    """The response body as bytes, whatever its encoding in the proxy response."""
    body = reply.raw.get("body") or ""
    return base64.b64decode(body) if reply.raw.get("isBase64Encoded") else body.encode()


class TestPages:
    @pytest.mark.parametrize("path", PAGES)
    def test_each_page_is_html_revalidated_every_time(self, api, path):
        reply = api.get(path)

        assert reply.status == 200
        assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        assert reply.headers["Cache-Control"] == "no-cache"
        assert re.fullmatch(r'"[0-9a-f]{20}"', reply.headers["ETag"])
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.body.startswith("<!doctype html>")

    def test_the_root_and_index_html_are_the_same_page(self, api):
        assert api.get("/").body == api.get("/index.html").body

    @pytest.mark.parametrize(
        ("path", "script"),
        [
            ("/", "index.js"),
            ("/view.html", "view.js"),
            ("/edit.html", "edit.js"),
            ("/success.html", "success.js"),
        ],
    )
    def test_each_page_loads_its_module_by_a_relative_url(self, api, path, script):
        # Relative URLs keep the stage prefix (/dev/...) on AWS.
        assert f'<script type="module" src="assets/{script}"></script>' in api.get(path).body

    def test_pages_allow_no_inline_script_but_docs_allow_swagger_ui_inline_styles(self, api):
        assert "script-src 'self';" in api.get("/").headers["Content-Security-Policy"]
        assert "style-src 'self';" in api.get("/").headers["Content-Security-Policy"]
        assert "style-src 'self' 'unsafe-inline'" in api.get("/docs").headers["Content-Security-Policy"]

    def test_the_stage_root_without_its_slash_is_redirected_to_it(self, api):
        assert api.get("/").status == 200  # https://host/dev/: served

        event = rest_event("GET", "/", stage="dev")
        event["requestContext"]["path"] = "/dev"  # https://host/dev, no slash
        reply = api.send(event)
        assert reply.status == 308
        assert reply.headers["Location"] == "dev/"

    def test_a_page_that_does_not_exist_is_a_404_problem(self, api):
        reply = api.get("/nope.html")
        assert reply.status == 404
        assert reply.headers["Content-Type"] == "application/problem+json"

    def test_a_write_to_a_page_is_405_with_allow(self, api):
        reply = api.post("/edit.html", body={})
        assert reply.status == 405
        assert "GET" in reply.headers["Allow"]


class TestAssets:
    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            ("/assets/app.css", "text/css; charset=utf-8"),
            ("/assets/api.js", "text/javascript; charset=utf-8"),
            ("/assets/config.js", "text/javascript; charset=utf-8"),
            ("/assets/icon.svg", "image/svg+xml"),
            ("/vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
            ("/vendor/swagger-ui/swagger-ui.css", "text/css; charset=utf-8"),
            ("/vendor/swagger-ui/LICENSE.txt", "text/plain; charset=utf-8"),
        ],
    )
    def test_content_types(self, api, path, content_type):
        reply = api.get(path)
        assert reply.status == 200
        assert reply.headers["Content-Type"] == content_type

    def test_the_body_is_the_package_file_byte_for_byte(self, api):
        reply = api.get("/assets/api.js")
        assert raw_body(reply) == STATIC.joinpath("assets", "api.js").read_bytes()
        assert reply.raw["isBase64Encoded"] is False  # text without gzip needs no binary media type

    def test_assets_are_cached_briefly_and_vendor_files_for_a_day(self, api):
        assert api.get("/assets/app.css").headers["Cache-Control"] == "public, max-age=300"
        vendor = api.get("/vendor/swagger-ui/swagger-ui.css")
        assert vendor.headers["Cache-Control"] == "public, max-age=86400"

    @pytest.mark.parametrize(
        "path",
        ["/assets/nope.js", "/assets/..", "/assets/%2e%2e", "/assets/..%2fx.css", "/vendor/swagger-ui/x.map"],
    )
    def test_names_outside_the_listing_are_404(self, api, path):
        assert api.get(path).status == 404

    def test_an_existing_file_of_an_unserved_type_is_404(self, api):
        # The package has Python files; the asset routes serve only the UI's own folders and types.
        assert api.get("/assets/__init__.py").status == 404


class TestValidators:
    def test_if_none_match_with_the_etag_is_304_without_a_body(self, api):
        first = api.get("/assets/app.css")
        again = api.get("/assets/app.css", headers={"If-None-Match": first.headers["ETag"]})

        assert again.status == 304
        assert again.body == ""
        assert again.headers["ETag"] == first.headers["ETag"]
        assert again.headers["Cache-Control"] == "public, max-age=300"

    def test_a_weak_or_listed_tag_matches_too(self, api):
        tag = api.get("/").headers["ETag"]
        assert api.get("/", headers={"If-None-Match": f'"other", W/{tag}'}).status == 304
        assert api.get("/", headers={"If-None-Match": "*"}).status == 304

    def test_another_etag_gets_the_full_file(self, api):
        reply = api.get("/assets/app.css", headers={"If-None-Match": '"0000"'})
        assert reply.status == 200
        assert raw_body(reply) == STATIC.joinpath("assets", "app.css").read_bytes()

    def test_the_etag_changes_with_the_content(self, api):
        assert api.get("/assets/app.css").headers["ETag"] != api.get("/assets/api.js").headers["ETag"]

    def test_the_etag_of_the_gzip_variant_still_validates_the_plain_one(self, api):
        gz = gzip_get(api, "/assets/api.js")
        assert gz.headers["ETag"] != api.get("/assets/api.js").headers["ETag"]
        assert api.get("/assets/api.js", headers={"If-None-Match": gz.headers["ETag"]}).status == 304


class TestCompression:
    def test_gzip_when_accepted_base64_encoded_for_api_gateway(self, api):
        reply = gzip_get(api, "/vendor/swagger-ui/swagger-ui-bundle.js", **{"Accept-Encoding": "gzip, br"})

        assert reply.status == 200
        assert reply.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in reply.headers["Vary"].split(", ")
        assert reply.raw["isBase64Encoded"] is True
        compressed = base64.b64decode(reply.raw["body"])
        original = STATIC.joinpath("vendor", "swagger-ui", "swagger-ui-bundle.js").read_bytes()
        assert gzip.decompress(compressed) == original
        assert len(compressed) < len(original) / 3

    @pytest.mark.parametrize("path", ["/", "/docs", "/assets/app.css", "/vendor/swagger-ui/swagger-ui.css"])
    def test_pages_and_text_assets_are_compressed(self, api, path):
        reply = gzip_get(api, path)
        assert reply.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(raw_body(reply)).startswith(raw_body(api.get(path))[:20])

    @pytest.mark.parametrize("accept", [None, "identity", "br", "gzip;q=0"])
    def test_no_gzip_unless_accepted(self, api, accept):
        headers = {"Accept-Encoding": accept} if accept else {}
        reply = api.get("/assets/app.css", headers=headers)
        assert "Content-Encoding" not in reply.headers
        assert "Accept-Encoding" in reply.headers["Vary"].split(", ")
        assert reply.body.startswith("/*")

    def test_a_304_to_a_gzip_client_carries_the_gzip_etag_and_no_body(self, api):
        tag = gzip_get(api, "/assets/app.css").headers["ETag"]
        reply = gzip_get(api, "/assets/app.css", **{"If-None-Match": tag})
        assert reply.status == 304
        assert reply.raw["body"] == ""
        assert reply.headers["ETag"] == tag

    def test_the_gzip_bytes_are_the_same_on_every_request(self, api):
        first = gzip_get(api, "/assets/api.js").raw["body"]
        assert gzip_get(api, "/assets/api.js").raw["body"] == first

    def test_head_of_a_gzipped_asset_has_the_headers_and_no_body(self, api):
        reply = api.request("HEAD", "/assets/app.css", headers={"Accept-Encoding": "gzip"})
        assert reply.status == 200
        assert reply.headers["Content-Encoding"] == "gzip"
        assert reply.raw["body"] == ""


class TestCors:
    def test_assets_carry_cors_headers_for_an_allowed_origin(self, api):
        reply = api.get("/assets/config.js", headers={"Origin": "https://app.example.com"})
        assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_the_ui_costs_the_cold_start_no_file_reads():
    """Importing the handler reads no UI file: the first request does (measured in a fresh process)."""
    code = (
        "import sys\n"
        "import serverless_crud.handler\n"
        "print('serverless_crud.api.static_files' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_swagger_ui_is_vendored_with_its_license():
    folder = STATIC.joinpath("vendor", "swagger-ui")
    assert "Apache License" in folder.joinpath("LICENSE.txt").read_text()
    assert folder.joinpath("swagger-ui-bundle.js").read_bytes().startswith(b"/*! For license information")
