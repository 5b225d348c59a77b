"""Phones and desktops: every page fits its viewport, and the main flows work on a phone."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect


def pages_of(record: dict[str, Any]) -> list[str]:
    key = f"email={quote(record['email'])}&id={record['id']}"
    return [
        f"./?email={quote(record['email'])}",
        f"view.html?{key}",
        f"edit.html?{key}",
        "edit.html",
        f"success.html?action=updated&{key}&name=Someone",
        "docs",
    ]


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@pytest.mark.parametrize("device", ["narrow", "phone", "desktop"])
def test_no_page_scrolls_sideways(open_context, api, email, device):
    fields = {
        "email": email,
        "name": "A rather long name that has to wrap on a small screen",
        "tags": ["one", "two", "three", "four"],
        "notes": "Notes " * 40,
        "phone": "+1 555 0100 0199",
    }
    # The widest amount a record can hold: 38 significant digits, written as number text.
    record = api.create_raw(json.dumps(fields)[:-1] + ', "amount": -1234567890123456789012345678.9012345678}')
    with open_context(device) as context:
        page = context.new_page()
        for path in pages_of(record):
            page.goto(path)
            expect(page.locator("main h1, .swagger-ui .info .title").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            assert overflow(page) == 0, f"{path} is wider than the {device}'s viewport"
            if path.startswith("./"):  # the list: every column fits across, up to each row's Edit link
                edit = page.get_by_role("link", name=f"Edit {record['name']}")
                expect(edit).to_be_visible()
                box = edit.bounding_box()
                assert box is not None
                assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


def test_on_a_phone_the_list_is_cards_and_a_record_can_be_created(mobile_context, api, email):
    api.create(email=email, name="Card", tags=["x"])
    page = mobile_context.new_page()
    page.goto(f"./?email={quote(email)}")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("thead")).to_be_hidden()
    label = page.locator("tbody td[data-label='Email']").evaluate(
        "(cell) => getComputedStyle(cell, '::before').content"
    )
    assert label == '"Email"'

    page.get_by_role("main").get_by_role("link", name="New record").tap()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill("Made on a phone")
    submit = page.get_by_role("button", name="Create record")
    submit.scroll_into_view_if_needed()
    submit.tap()
    expect(page.get_by_role("heading", name="Record created")).to_be_visible()
    page.get_by_role("link", name="All records").tap()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Filter").tap()
    expect(page.locator("tbody th")).to_have_text(["Card", "Made on a phone"])


def test_on_a_phone_search_and_sort_stay_usable(mobile_context, api, email):
    for name in ("Béta", "alpha", "Gamma beta"):
        api.create(email=email, name=name)
    page = mobile_context.new_page()
    page.goto(f"./?email={quote(email)}")
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator("thead")).to_be_hidden()  # the cards have no header row: the Sort menu sorts
    sort = page.get_by_label("Sort", exact=True)
    expect(sort).to_be_visible()
    sort.select_option("name")
    expect(page.locator("tbody th")).to_have_text(["alpha", "Béta", "Gamma beta"])
    search = page.get_by_label("Search", exact=True)
    search.tap()
    search.fill("beta")
    expect(page.locator("tbody th")).to_have_text(["Béta", "Gamma beta"])
    assert overflow(page) == 0
