"""Every page passes axe-core's checks (WCAG 2.x A and AA, and axe's best practices), light and dark.

axe-core is vendored under tests/browser/vendor/axe-core (version and licence there) and injected
through the DevTools protocol, which the pages' Content-Security-Policy does not govern. A page is
checked once it has rendered its data (a list, a record, a form, Swagger UI's operations).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN_AXE = """async (tags) => {
    const options = { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] };
    const result = await axe.run(document, options);
    return result.violations.map((v) => ({
        rule: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
    }));
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    page.evaluate(AXE)
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE, RULES)
    return found


def _record_query(record: dict[str, Any]) -> str:
    return f"email={quote(record['email'])}&id={record['id']}"


def _try_it_out(page: Page) -> None:
    """Open the create operation in Swagger UI and its request form, by keyboard (no hover state)."""
    page.locator("#operations-default-createRecord .opblock-summary-control").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Try it out").focus()
    page.keyboard.press("Enter")
    expect(page.locator("textarea.body-param__text")).to_be_visible()


#: Each page, how to reach it for a record, what shows when it has rendered, what to do then.
PAGES: dict[str, tuple[Callable[[dict[str, Any]], str], str, Callable[[Page], None] | None]] = {
    "list": (lambda r: f"./?email={quote(r['email'])}", "table tbody tr", None),
    # Searched, filtered by a tag (its removable chip shown) and sorted (a heading with aria-sort).
    "list-searched": (
        lambda r: f"./?email={quote(r['email'])}&q={quote(r['name'])}&tag={quote(r['tags'][0])}&sort=-name",
        "table tbody tr",
        None,
    ),
    "view": (lambda r: f"view.html?{_record_query(r)}", '[data-field="tags"] .chip', None),
    "create": (lambda r: "edit.html", "form input", None),
    "edit": (lambda r: f"edit.html?{_record_query(r)}", '[data-field="tags"] .chip', None),
    "success": (lambda r: f"success.html?{_record_query(r)}&action=created&name=Ada", "main a", None),
    # With the Undo notice of a save.
    "success-undo": (
        lambda r: f"success.html?{_record_query(r)}&action=updated&name=Ada&version=2",
        "main .undo button",
        None,
    ),
    "deleted": (lambda r: f"deleted.html?email={quote(r['email'])}", "main [role=status]", None),
    # In the open mode the sign-in page says there is none; tests/browser/test_signin.py checks it signed in.
    "signin": (lambda r: "signin.html", "#notice .alert", None),
    "import": (lambda r: "import.html", "form input[type=file]", None),
    "docs": (lambda r: "docs", ".opblock-summary-path", None),
    "docs-try-it-out": (lambda r: "docs", ".opblock-summary-path", _try_it_out),
    "page-not-found": (lambda r: "no/such/page", ".error-page h1", None),
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_passes_axe(
    open_context: Any, api: Any, console: Any, email: str, name: str, scheme: str
) -> None:
    record = api.create(
        email=email, name="Ada Lovelace", tags=["math", "engines"], amount=12.5, notes="Notes"
    )
    path, rendered, then = PAGES[name]
    if name == "page-not-found":
        console.allow("status of 404")
    with open_context("desktop", color_scheme=scheme) as context:
        page = context.new_page()
        page.goto(path(record))
        expect(page.locator(rendered).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        if then:
            then(page)
        assert violations(page) == []


def test_axe_finds_what_it_is_here_to_find(page: Page) -> None:
    """The check can fail: a duplicate main landmark, an unlabelled select and faint text are reported."""
    page.goto("edit.html")
    expect(page.locator("form input").first).to_be_visible()
    page.evaluate(
        """() => {
            document.body.append(Object.assign(document.createElement("main"), { textContent: "again" }));
            document.body.append(document.createElement("select"));
            const faint = Object.assign(document.createElement("p"), { textContent: "faint text" });
            faint.style.color = "#ddd"; faint.style.background = "#fff";
            document.body.append(faint);
        }"""
    )
    rules = {v["rule"] for v in violations(page)}
    assert {"landmark-no-duplicate-main", "select-name", "color-contrast"} <= rules
