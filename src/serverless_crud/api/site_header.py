"""The site header, declared once (`ui/templates/header.html`) and the same on every page.

The pages in `ui/static/` hold a copy between two markers, written by `make pages`
(scripts/generate_pages.py) and kept in step by a test, so that they are plain files that any web
server can host (the UI also runs from a bucket). The error pages (api.error_pages) get it here at
run time. Each page's own link is marked `aria-current="page"`.
"""

from __future__ import annotations

import re
from functools import cache

START = "<!-- site header: ui/templates/header.html, written by `make pages` -->"
END = "<!-- /site header -->"
_REGION = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)

#: The header link of each page that has one.
NAV_OF_PAGE = {
    "index.html": "./",
    "edit.html": "edit.html",
    "import.html": "import.html",
    "deleted.html": "deleted.html",
    "docs.html": "docs",
}


@cache
def template(name: str) -> str:
    """A file of `ui/templates/` (the parts of pages that are never served alone)."""
    from importlib import resources

    return resources.files("serverless_crud").joinpath("ui", "templates", name).read_text(encoding="utf-8")


def header_for(page_name: str) -> str:
    """The header's markup for `page_name` (its link, if it has one, marked current), with markers."""
    header = template("header.html")
    if link := NAV_OF_PAGE.get(page_name):
        header = header.replace(f'<a href="{link}">', f'<a href="{link}" aria-current="page">', 1)
    return f"{START}\n{header}{END}\n"


def with_header(html: str, page_name: str) -> str:
    """`html` with the header in its place: between the markers, or where `<!--header-->` stands."""
    if _REGION.search(html):
        return _REGION.sub(lambda _: header_for(page_name), html, count=1)
    return html.replace("<!--header-->\n", header_for(page_name), 1)
