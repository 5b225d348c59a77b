"""Errors a person can read: a browser that navigates to a page that fails gets an HTML page in the
app's style with a way back, API clients the problem+json (content negotiation on `Accept`).

`resolve` hands every problem+json response here; only a request whose Accept ranks text/html above
problem+json (a browser's navigation does, `fetch` and curl do not: they send `*/*`) gets the page.
Imported on such a response only, so the API's cold start does not pay for it.
"""

from __future__ import annotations

import html
import json

from serverless_crud.api.http import HTML, accept_prefers, stage_prefix
from serverless_crud.api.problems import PROBLEM_JSON
from serverless_crud.api.request import Request
from serverless_crud.api.responses import JSON, Response

#: What a person reads for each status (title, sentence); others use the problem's own title.
WORDS = {
    400: (
        "This address is not right",
        "The page was asked for with something it cannot read. Check the link.",
    ),
    401: ("Please sign in", "This page needs you to sign in first."),
    403: ("This is not yours to see", "You are signed in, but this page belongs to someone else."),
    404: (
        "Page not found",
        "There is nothing at this address. The link may be broken, or the page may have moved.",
    ),
    405: ("This page cannot do that", "The page exists, but not for what the browser asked."),
    500: ("Something went wrong on our side", "It has been logged. Please try again in a moment."),
    503: ("The service is busy", "Please try again in a moment."),
}


def wants_html(event: Request) -> bool:
    """Whether the request's Accept ranks an HTML page above JSON (a browser's navigation does)."""
    return accept_prefers(event.headers.get("accept"), HTML, PROBLEM_JSON, JSON)


def html_error(event: Request, response: Response) -> Response:
    """The problem+json `response` as an HTML error page (same status and headers, HTML body)."""
    from serverless_crud.api.site_header import template, with_header
    from serverless_crud.api.static_files import page_csp

    status = response.status_code
    try:
        problem = json.loads(response.body or "{}")
    except ValueError:
        problem = {}
    title, sentence = WORDS.get(status) or (
        str(problem.get("title") or "Error"),
        "Please go back and try again.",
    )
    page = (
        with_header(template("error.html"), "error.html")
        .replace("{base}", html.escape(stage_prefix(event) + "/"))
        .replace("{title}", html.escape(title))
        .replace("{status}", str(status))
        .replace("{message}", html.escape(sentence))
    )
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in {"content-type", "content-length", "content-encoding"}
    }
    headers["Content-Security-Policy"] = page_csp("error.html")
    headers.setdefault("Cache-Control", "no-store")
    # The page differs by Accept: caches keep the two apart.
    headers["Vary"] = "Accept"
    return Response(status, "text/html; charset=utf-8", page, headers)
