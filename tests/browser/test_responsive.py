"""The main flows on a phone (that every page fits every width: test_layout.py)."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import expect


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
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
