"""What a browser gets besides the API: HTML error pages by content negotiation, and the security
headers on every response (through the handler, with API Gateway's events)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import ClassVar

import pytest

from serverless_crud.api.http import accept_prefers
from serverless_crud.api.site_header import with_header
from tests.support.events import rest_event

STATIC = Path(str(resources.files("serverless_crud").joinpath("ui", "static")))

#: What Chromium sends when a person follows a link or types an address.
NAVIGATION = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


class TestErrorPages:
    def test_a_browser_sent_to_an_unknown_page_gets_a_page_with_a_way_back(self, api):
        reply = api.get("/no/such/page.html", headers={"Accept": NAVIGATION})

        assert reply.status == 404
        assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Accept" in reply.headers["Vary"]
        assert reply.body.startswith("<!doctype html>")
        assert "<h1>Page not found</h1>" in reply.body
        assert '<a class="btn btn-primary" href="./">Go to the records</a>' in reply.body
        # The site's header and stylesheet, found from any depth of path through the stage's base.
        assert '<nav aria-label="Main">' in reply.body
        assert '<base href="/dev/">' in reply.body
        assert '<link rel="stylesheet" href="assets/app.css">' in reply.body
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
        assert "script-src 'self';" in reply.headers["Content-Security-Policy"]
        # No library's words, no internal name.
        assert "urn:" not in reply.body and "problem" not in reply.body

    @pytest.mark.parametrize(
        "accept", [None, "*/*", "application/json", "application/problem+json", "text/html;q=0.5, */*"]
    )
    def test_api_clients_still_get_problem_json(self, api, accept):
        reply = api.get("/no/such/page.html", headers={"Accept": accept} if accept else {})

        assert reply.status == 404
        assert reply.headers["Content-Type"] == "application/problem+json"
        assert reply.json()["title"] == "Not Found"

    def test_a_wrong_method_followed_in_a_browser_says_so_in_words(self, api):
        reply = api.get("/imports/uploads", headers={"Accept": NAVIGATION})

        assert reply.status == 405
        assert reply.headers["Allow"] == "OPTIONS, POST"
        assert "<h1>This page cannot do that</h1>" in reply.body

    def test_the_page_links_from_the_stage_root_when_there_is_no_stage_prefix(self, api):
        # A custom domain's API mapping without a base path: the client's path is the route's own.
        event = rest_event("GET", "/x/y", headers={"Accept": NAVIGATION})
        event["requestContext"]["path"] = "/x/y"

        reply = api.send(event)
        assert reply.status == 404
        assert '<base href="/">' in reply.body

    def test_values_in_the_page_are_escaped(self, api):
        event = rest_event("GET", "/x", headers={"Accept": NAVIGATION})
        event["requestContext"]["path"] = '/"><script>/x'

        reply = api.send(event)
        assert "<script>" not in reply.body
        assert '<base href="/&quot;&gt;&lt;script&gt;/">' in reply.body

    def test_a_status_without_words_of_its_own_reads_as_its_title(self, api):
        reply = api.post("/records", body="x", headers={"Accept": NAVIGATION, "Content-Type": "text/plain"})

        assert reply.status == 415
        assert "<h1>Unsupported Media Type</h1>" in reply.body
        assert "Please go back and try again." in reply.body


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("method", "path", "status"),
        [
            ("GET", "/health", 200),
            ("GET", "/records", 200),
            ("GET", "/records/nobody%40example.com/1", 404),
            ("POST", "/records", 415),
            ("GET", "/", 200),
            ("GET", "/assets/app.css", 200),
            ("GET", "/openapi.json", 200),
            ("OPTIONS", "/records", 204),
        ],
    )
    def test_every_response_says_nosniff_and_no_referrer(self, api, method, path, status):
        reply = api.request(
            method,
            path,
            headers={"Origin": "https://app.example.com"},
            body="x" if method == "POST" else None,
        )

        assert reply.status == status
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers.get("Strict-Transport-Security") is None  # plain HTTP: no HSTS

    @pytest.mark.parametrize("path", ["/", "/health", "/nope"])
    def test_over_https_browsers_are_told_to_stay_on_https(self, api, path):
        reply = api.get(path, headers={"X-Forwarded-Proto": "https"})

        assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"

    def test_a_header_set_once_is_not_repeated(self, api):
        reply = api.get("/", headers={"X-Forwarded-Proto": "https"})
        for name in ("X-Content-Type-Options", "Referrer-Policy", "Strict-Transport-Security"):
            values = [
                v for k, vs in reply.raw["multiValueHeaders"].items() if k.lower() == name.lower() for v in vs
            ]
            assert len(values) == 1, name

    def test_the_pages_csp_is_as_strict_as_before(self, api):
        csp = api.get("/").headers["Content-Security-Policy"]
        assert re.search(r"script-src 'self';", csp) and "unsafe" not in csp


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (NAVIGATION, True),
        ("text/html", True),
        ("text/*", True),
        ("*/*", False),
        ("", False),
        ("application/json, text/html", False),
        ("text/html;q=0.9, application/problem+json;q=1", False),
        ("text/html;q=1, application/*;q=0.5", True),
        ("text/html;q=oops", False),
    ],
)
def test_accept_ranking(accept, html):
    assert accept_prefers(accept, "text/html", "application/problem+json", "application/json") is html


class TestOneHeader:
    PAGES: ClassVar[dict[str, str | None]] = {
        "/": "./",
        "/view.html": None,
        "/edit.html": "edit.html",
        "/success.html": None,
        "/signin.html": None,
        "/import.html": "import.html",
        "/deleted.html": "deleted.html",
        "/docs": "docs",
    }

    @pytest.mark.parametrize("path", list(PAGES))
    def test_every_page_has_the_same_header_with_its_own_link_marked(self, api, path):
        body = api.get(path).body

        assert body.count('<header class="site-header">') == 1
        assert body.count('class="skip-link" href="#main"') == 1
        assert 'id="main"' in body
        assert '<script type="module" src="assets/header.js"></script>' in body
        nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', body).group(1)
        assert re.sub(r' aria-current="page"', "", nav) == (
            '<a href="./">Records</a><a href="edit.html">New record</a>'
            '<a href="import.html">Import</a><a href="deleted.html">Recently deleted</a>'
            '<a href="docs">API docs</a>'
        )
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', nav)
        assert current == ([self.PAGES[path]] if self.PAGES[path] else [])
        assert '<div class="account" id="account"></div>' in body

    @pytest.mark.parametrize("page", sorted(p.name for p in STATIC.glob("*.html")))
    def test_each_page_holds_the_header_template_as_make_pages_writes_it(self, page):
        text = (STATIC / page).read_text(encoding="utf-8")
        assert with_header(text, page) == text, f"{page} is out of step with the header: run `make pages`"
