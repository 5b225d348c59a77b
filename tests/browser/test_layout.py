"""Every page holds with the longest valid data (tests/browser/realistic.py), at every width from a
small phone to a wide desktop, light and dark: no sideways scrolling, nothing drawn past the edge,
every shortened text whole in its tooltip; one header on every page; text-like controls of a form
all the same height; the whole text on keyboard focus."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.realistic import (
    LONG_ADMIN,
    LONGEST_EMAIL,
    RECORDS,
    RealisticSite,
    realistic_site,
    run_import,
    start_signed_in,
)
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.runs_for(85)

WIDTHS = [320, 375, 768, 1280, 1920]
SCHEMES = ["light", "dark"]
NAV = ["Records", "New record", "Import", "Recently deleted", "API docs"]

#: Elements drawn past the viewport's edges, unless a scrolling or clipping box holds them, and the
#: page's own sideways overflow; shortened texts without their whole text in a tooltip.
PROBLEMS = """() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    if (document.documentElement.scrollWidth > width) {
        found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    }
    const held = (element) => {
        for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
            if (getComputedStyle(box).overflowX !== "visible") return true;
        }
        return false;
    };
    const classes = (e) => typeof e.className === "string" && e.className.trim()
        ? "." + e.className.trim().split(/\\s+/).join(".") : "";
    const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + classes(e);
    for (const element of document.querySelectorAll("body *")) {
        if (element.closest(".skip-link, .visually-hidden, script, style")) continue;
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if ((box.right > width + 0.5 || box.left < -0.5) && !held(element)) {
            found.push(`${name(element)} spans ${Math.round(box.left)}..${Math.round(box.right)}`);
        }
    }
    // A column squeezed to nothing (its text one letter a line) is no layout either.
    // A box of 1 px by 1 px is the visually hidden pattern (a phone's diff hides its column heads so).
    const hiddenAway = (e) => {
        for (let a = e; a; a = a.parentElement) {
            const box = a.getBoundingClientRect();
            if (box.width <= 1 && box.height <= 1) return true;
        }
        return false;
    };
    for (const cell of document.querySelectorAll("th, td")) {
        if (cell.closest(".swagger-ui, .visually-hidden") || hiddenAway(cell)) continue;
        const cellWidth = Math.round(cell.getBoundingClientRect().width * 100) / 100;
        if (cellWidth > 0 && cellWidth < 40) {
            found.push(`${name(cell)} "${cell.textContent.slice(0, 20)}" is ${cellWidth} px wide`);
        }
    }
    for (const element of document.querySelectorAll(".truncate, .clamp, .chip-text, .account-email")) {
        const cut = element.scrollWidth > element.clientWidth + 1
            || element.scrollHeight > element.clientHeight + 1;
        const whole = element.title || element.closest("[title]")?.title;
        if (cut && !whole?.includes(element.textContent)) found.push(`${name(element)}: cut, no tooltip`);
    }
    return found.slice(0, 12);
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealisticSite]:
    with realistic_site(tmp_path_factory.mktemp("realistic")) as running:
        yield running


@pytest.fixture(scope="module")
def import_job(site: RealisticSite) -> str:
    """A finished import with rejected rows (its report is at import.html?job=…)."""
    bad = "\n".join(f"{LONGEST_EMAIL},{n},,{n}" for n in range(1, 13))
    return run_import(
        site, f"email,id,name,amount\n{bad}\nnot-an-email,1,Someone,1\n{LONGEST_EMAIL},20,Fine,1\n"
    )


def pages(site: RealisticSite, job: str) -> dict[str, tuple[str, str]]:
    """Each page with the longest data: its address, and what shows once it has rendered."""
    longest, rtl, emoji = site.key_query(0), site.key_query(2), site.key_query(4)
    name = quote(RECORDS[0]["name"])
    return {
        "list, all 100 records": ("./?limit=100", "table.records tbody tr >> nth=99"),
        "list, sorted by name": ("./?sort=-name&limit=10", "table.records tbody tr >> nth=9"),
        "list, one long email": (f"./?email={quote(LONGEST_EMAIL)}", "table.records tbody tr"),
        "record, longest": (f"view.html?{longest}", "[data-field=tags] .chip >> nth=19"),
        "record, right-to-left": (f"view.html?{rtl}", "[data-field=tags] .chip"),
        "record, emoji": (f"view.html?{emoji}", "[data-field=tags] .chip"),
        "edit, longest": (f"edit.html?{longest}", "[data-field=tags] .chip >> nth=19"),
        "new record": ("edit.html", "#record-form input"),
        "done": (f"success.html?action=updated&{longest}&name={name}", ".success h1"),
        "sign in": ("signin.html?signed-out=1", "#signin-email"),
        "import report": (f"import.html?job={job}", ".data-table tbody tr"),
        "recently deleted": ("deleted.html", "#deleted .subtitle"),
        "api docs": ("docs", ".opblock-summary-path"),
        "page not found": ("no/such/page", ".error-page h1"),
    }


def open_page(page: Page, path: str, rendered: str) -> None:
    page.goto(path)
    expect(page.locator(rendered).first).to_be_attached()
    if not path.startswith("signin.html"):  # the header has shown who is signed in
        expect(page.locator("#account .account-email")).to_be_attached()
    page.evaluate("document.fonts.ready.then(() => true)")


@pytest.fixture
def signed_in_context(browser: Any, site: RealisticSite, console: Any) -> Callable[..., Any]:
    """A browser context at `width` and `scheme` whose pages start signed in as the long-address admin."""
    contexts: list[Any] = []

    def make(width: int, scheme: str = "light") -> Any:
        phone = width < 700
        context = browser.new_context(
            base_url=site.url,
            viewport={"width": width, "height": 900},
            is_mobile=phone,
            has_touch=phone,
            color_scheme=scheme,
        )
        context.set_default_timeout(15_000)
        context.on("page", console.watch)
        start_signed_in(context, site.refresh_tokens[LONG_ADMIN])
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


#: Where the header, the brand and the links stand: [left, top, width, height] each.
BOXES = """() => {
    const box = (selector) => {
        const r = document.querySelector(selector)?.getBoundingClientRect();
        return r && [r.left, r.top, r.width, r.height].map(Math.round);
    };
    return { header: box(".site-header"), brand: box(".brand"), nav: box(".site-header nav") };
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_holds_the_longest_data_under_one_header(
    signed_in_context: Any, site: RealisticSite, import_job: str, console: Any, width: int, scheme: str
) -> None:
    console.allow(r"status of 404")  # the unknown page
    context = signed_in_context(width, scheme)
    # Where the header and its links stand before the page's data and user arrived, to compare.
    context.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => { window.early = (" + BOXES + ")(); });"
    )
    page = context.new_page()
    problems, heights = {}, set()
    for what, (path, rendered) in pages(site, import_job).items():
        open_page(page, path, rendered)
        if found := page.evaluate(PROBLEMS):
            problems[what] = found
        check_header(page, what, width)
        heights.add(page.evaluate(BOXES)["header"][3])
    assert problems == {}
    # The same header everywhere; on a phone, one compact line.
    assert len(heights) == 1
    assert heights.pop() <= 60


def check_header(page: Page, what: str, width: int) -> None:
    """One header: the same links, who is signed in and Sign out, not moved since the page began."""
    header = page.locator(".site-header")
    expect(header).to_have_count(1)
    # (On a phone the links are folded behind the Menu button: their markup is the same.)
    expect(header.locator("nav[aria-label=Main] a")).to_have_text(NAV)
    account = header.locator("#account")
    if what != "sign in":
        expect(account.locator(".account-email")).to_have_text(LONG_ADMIN)
        expect(account.locator("button", has_text="Sign out")).to_have_count(1)
    later, early = page.evaluate(BOXES), page.evaluate("window.early")
    if width >= 1024:
        assert later == early, f"{what}: the header moved as the page loaded"
    else:  # the links are folded: the header and the brand stay
        assert (later["header"], later["brand"]) == (early["header"], early["brand"]), what


def test_on_a_phone_the_header_folds_its_links_behind_a_menu(
    signed_in_context: Any, site: RealisticSite
) -> None:
    page = signed_in_context(320).new_page()
    open_page(page, "./", "table.records tbody tr")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.tap()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link")).to_have_text(NAV)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()


#: The text-like controls of a form: text boxes of every kind, drop-downs, file pickers, and the
#: buttons that stand in a row with them.
CONTROLS = (
    "input[type=text], input[type=email], input[type=password], input[type=tel], input[type=url], "
    "input[type=search], input[type=number], input[type=file], select, .toolbar .btn"
)


@pytest.mark.parametrize("width", [375, 1280])
def test_text_like_controls_of_every_form_are_the_same_height(
    signed_in_context: Any, site: RealisticSite, import_job: str, width: int
) -> None:
    page = signed_in_context(width).new_page()
    forms = {
        "list": ("./", "table.records tbody tr", "main"),
        "new record": ("edit.html", "#record-form input", "#record-form"),
        "edit": (f"edit.html?{site.key_query(1)}", "#record-form input", "#record-form"),
        "sign in": ("signin.html", "#signin-email", "#signin"),
        "import": ("import.html", "#file", "#import-form"),
    }
    heights = {}
    for what, (path, rendered, form) in forms.items():
        open_page(page, path, rendered)
        found = (
            page.locator(form)
            .locator(CONTROLS)
            .evaluate_all(
                "(all) => all.filter((c) => c.offsetParent).map((c) => c.getBoundingClientRect().height)"
            )
        )
        assert found, what
        heights[what] = sorted({round(h) for h in found})
    assert heights == {what: [40] for what in forms}


def test_a_shortened_text_shows_whole_on_keyboard_focus(signed_in_context: Any, site: RealisticSite) -> None:
    page = signed_in_context(1280).new_page()
    open_page(page, f"./?email={quote(LONGEST_EMAIL)}", "table.records tbody tr")
    email = page.locator("table.records tbody tr").first.locator(".truncate")
    assert email.evaluate("(e) => e.scrollWidth > e.clientWidth")  # shortened, with an ellipsis
    expect(email).to_have_attribute("title", LONGEST_EMAIL)
    page.locator("table.records tbody tr").first.get_by_role("link").first.focus()
    page.keyboard.press("Tab")  # keyboard focus in the row (the first tag)
    page.keyboard.press("Shift+Tab")
    assert email.evaluate("(e) => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().height > 30")


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (1280, "dark"), (375, "dark")])
def test_axe_finds_nothing_with_the_longest_data(
    signed_in_context: Any, site: RealisticSite, import_job: str, width: int, scheme: str
) -> None:
    """axe-core on the pages whose look the data changes most, signed in (the docs' Authorize button)."""
    page = signed_in_context(width, scheme).new_page()
    every = pages(site, import_job)
    found = {}
    for what in (
        "list, sorted by name",
        "record, right-to-left",
        "edit, longest",
        "import report",
        "api docs",
    ):
        open_page(page, *every[what])
        if problems := violations(page):
            found[what] = problems
    assert found == {}
