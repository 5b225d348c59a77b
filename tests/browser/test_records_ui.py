"""The web UI in Chromium: create, view, edit, delete; validation; conflicts; paging; errors."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

BIG = "12345678901234567890.123456789"


def view_url(record: dict[str, Any]) -> str:
    return f"view.html?email={quote(record['email'])}&id={record['id']}"


def edit_url(record: dict[str, Any]) -> str:
    return f"edit.html?email={quote(record['email'])}&id={record['id']}"


def field_error(page: Page, name: str) -> Any:
    return page.locator(f'[data-field="{name}"] .field-error')


def add_tags(page: Page, *tags: str) -> None:
    tags_input = page.get_by_label("Tags", exact=True)
    for tag in tags:
        tags_input.fill(tag)
        tags_input.press("Enter")


def tab_to(page: Page, target: Any, presses: int = 40) -> None:
    """Press Tab until `target` has the focus (as a keyboard user moves through a page)."""
    handle = target.element_handle()
    for _ in range(presses):
        if page.evaluate("(element) => document.activeElement === element", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{presses} presses of Tab never reached {target}")


class TestLifecycle:
    def test_create_view_edit_and_delete_a_record(self, page: Page, api, email):
        page.goto("./")
        page.get_by_role("main").get_by_role("link", name="New record").click()
        expect(page.get_by_role("heading", name="New record")).to_be_visible()

        page.get_by_label("Email").fill(email.upper())
        page.get_by_label("Name").fill("  Ada Lovelace  ")
        page.get_by_label("Phone").fill("+44 20 7946 0000")
        page.get_by_label("Notes").fill("First line\nSecond line")
        add_tags(page, "math", "engines")
        page.get_by_label("Amount").fill(BIG)
        page.get_by_label("Active").uncheck()
        page.get_by_role("button", name="Create record").click()

        expect(page.get_by_role("heading", name="Record created")).to_be_visible()
        expect(page.get_by_role("heading", name="Record created")).to_be_focused()
        expect(page.get_by_text(f"“Ada Lovelace” ({email}")).to_be_visible()
        page.get_by_role("link", name="View the record").click()

        expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
        fields = page.locator("dl.fields")
        expect(fields.locator('[data-field="amount"] dd')).to_have_text(BIG)
        expect(fields.locator('[data-field="phone"] dd')).to_have_text("+44 20 7946 0000")
        expect(fields.locator('[data-field="notes"] dd')).to_have_text("First line\nSecond line")
        expect(fields.locator('[data-field="tags"] .chip')).to_have_text(["math", "engines"])
        expect(fields.locator('[data-field="active"] dd')).to_have_text("No")
        expect(fields.locator('[data-field="version"] dd')).to_have_text("1")
        expect(fields.locator('[data-field="email"] code')).to_have_text(email)
        created = fields.locator('[data-field="created_at"] time')
        expect(created).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"))
        # The exact moment in the reader's words: weekday, date, time with seconds, time zone.
        expect(created).to_have_attribute("title", re.compile(r"^\w+day, .+ \d{4}.* \d\d?:\d\d:\d\d"))
        record_id = int(fields.locator('[data-field="id"] code').inner_text())
        status, stored = api.get(email, record_id)
        assert status == 200
        assert stored["amount"] == Decimal(BIG)
        assert stored["name"] == "Ada Lovelace"
        assert stored["tags"] == ["math", "engines"]
        assert stored["active"] is False

        page.get_by_role("link", name="Edit").click()
        expect(page.get_by_label("Name")).to_have_value("Ada Lovelace")
        expect(page.get_by_label("Amount")).to_have_value(BIG)
        page.get_by_label("Name").fill("Ada, Countess of Lovelace")
        page.get_by_role("button", name="Remove math").click()
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("heading", name="Changes saved")).to_be_visible()
        page.get_by_role("link", name="View the record").click()
        expect(page.get_by_role("heading", name="Ada, Countess of Lovelace")).to_be_visible()
        expect(page.locator('[data-field="version"] dd')).to_have_text("2")
        expect(page.locator('[data-field="tags"] .chip')).to_have_text(["engines"])
        expect(page.locator('[data-field="amount"] dd')).to_have_text(BIG)

        page.get_by_role("button", name="Delete").click()
        dialog = page.get_by_role("dialog", name="Delete this record?")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        expect(page.get_by_role("button", name="Delete")).to_be_focused()
        assert api.get(email, record_id)[0] == 200

        page.get_by_role("button", name="Delete").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        expect(page.get_by_role("heading", name="Record deleted")).to_be_visible()
        assert api.get(email, record_id)[0] == 404
        page.get_by_role("link", name="All records").click()
        expect(page.get_by_role("heading", name="Records")).to_be_visible()

    def test_a_double_clicked_create_makes_one_record(self, page: Page, api, email):
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Name").fill("Clicked twice")
        page.get_by_role("button", name="Create record").dblclick()
        expect(page.get_by_role("heading", name="Record created")).to_be_visible()
        status, listed = api.request("GET", f"records?email={quote(email)}")
        assert status == 200 and [r["name"] for r in listed["items"]] == ["Clicked twice"]

    def test_a_retry_after_a_lost_answer_makes_one_record(self, page: Page, api, email, console):
        console.allow(r"ERR_CONNECTION_RESET")
        lost = []

        def lose_the_first_answer(route):
            # The server creates the record; the browser never hears back (a dropped connection).
            if not lost:
                lost.append(route.fetch().headers)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route(re.compile(r"/records$"), lose_the_first_answer)
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Name").fill("Sent once")
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_text("Could not reach the server")).to_be_visible()
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("heading", name="Record created")).to_be_visible()
        status, listed = api.request("GET", f"records?email={quote(email)}")
        assert status == 200 and [r["name"] for r in listed["items"]] == ["Sent once"]

    def test_a_record_created_with_a_chosen_id_keeps_it(self, page: Page, api, email):
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Id").fill("9007199254740991")
        page.get_by_label("Name").fill("Largest id")
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("heading", name="Record created")).to_be_visible()
        assert api.get(email, 9007199254740991)[0] == 200


class TestExactNumbers:
    def test_amounts_show_and_round_trip_exactly(self, page: Page, api, email):
        small = api.create_raw(f'{{"email": "{email}", "name": "Small", "amount": 0.1}}')
        big = api.create_raw(f'{{"email": "{email}", "name": "Big", "amount": {BIG}}}')

        page.goto(f"./?email={quote(email)}")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0).locator("td.num")).to_have_text("0.1")
        expect(rows.nth(1).locator("td.num")).to_have_text(BIG)

        # Saving the form unchanged sends the amount back as the same number text.
        for record, text in ((small, "0.1"), (big, BIG)):
            page.goto(edit_url(record))
            expect(page.get_by_label("Amount")).to_have_value(text)
            page.get_by_role("button", name="Save changes").click()
            expect(page.get_by_role("heading", name="Changes saved")).to_be_visible()
            status, stored = api.get(email, record["id"])
            assert (status, stored["version"], str(stored["amount"])) == (200, 2, text)

    def test_parsing_without_the_reviver_source_keeps_digits_too(self, page: Page):
        page.goto("success.html")
        document = '{"a": 12345678901234567890.123456789, "b": "1.5 \\" 2", "c": [0.1, -3, 1e2, 2]}'
        results = page.evaluate(
            """async (text) => {
                const api = await import("./assets/api.js");
                const show = (value) => api.stringifyJson(value);
                return [
                    api.PARSE_WITH_SOURCE,
                    show(api.parseJson(text, { withSource: true })),
                    show(api.parseJson(text, { withSource: false })),
                ];
            }""",
            document,
        )
        expected = '{"a":12345678901234567890.123456789,"b":"1.5 \\" 2","c":[0.1,-3,1e2,2]}'
        assert results == [True, expected, expected]


class TestValidation:
    def test_client_side_checks_mirror_the_schema_and_send_nothing(self, page: Page):
        posts: list[str] = []
        page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
        page.goto("edit.html")
        expect(page.get_by_label("Name")).to_have_attribute("aria-required", "true")
        page.get_by_role("button", name="Create record").click()

        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("There are 2 problems")
        expect(summary).to_be_focused()
        expect(field_error(page, "email")).to_have_text("Email is required.")
        expect(field_error(page, "name")).to_have_text("Name is required.")
        expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")

        page.get_by_label("Email").fill("not-an-email")
        page.get_by_label("Id").fill("0")
        page.get_by_label("Name").fill("x" * 201)
        page.get_by_label("Phone").fill("1" * 33)
        page.get_by_label("Amount").fill("twelve")
        add_tags(page, *[f"t{n}" for n in range(21)])
        page.get_by_role("button", name="Create record").click()

        expect(field_error(page, "email")).to_contain_text("must be an email address")
        expect(field_error(page, "id")).to_have_text("Id must be at least 1.")
        expect(field_error(page, "name")).to_contain_text("at most 200 characters")
        expect(field_error(page, "phone")).to_contain_text("at most 32 characters")
        expect(field_error(page, "amount")).to_contain_text("must be a number")
        expect(field_error(page, "tags")).to_contain_text("at most 20")
        expect(page.get_by_role("alert")).to_contain_text("There are 6 problems")
        page.get_by_role("alert").get_by_role("link", name=re.compile("Id must be")).click()
        expect(page.get_by_label("Id")).to_be_focused()
        assert posts == []

    def test_server_field_errors_show_next_to_their_fields_and_keep_the_input(self, page: Page, console):
        console.allow(r"status of 422")
        page.goto("edit.html")
        page.get_by_label("Email").fill("someone@example.com")
        page.get_by_label("Name").fill("Too precise")
        too_many_digits = "1." + "1" * 40
        page.get_by_label("Amount").fill(too_many_digits)
        page.get_by_role("button", name="Create record").click()

        expect(field_error(page, "amount")).to_contain_text("at most 38 significant digits")
        expect(page.get_by_label("Amount")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("alert")).to_contain_text("There is a problem")
        expect(page.get_by_label("Amount")).to_have_value(too_many_digits)
        expect(page.get_by_label("Name")).to_have_value("Too precise")

    def test_enter_adds_a_tag_and_does_not_submit(self, page: Page):
        page.goto("edit.html")
        add_tags(page, "one")
        expect(page.locator('[data-field="tags"] .chip-text')).to_have_text(["one"])
        expect(page.get_by_role("alert")).to_have_count(0)
        page.get_by_label("Tags", exact=True).press("Backspace")
        expect(page.locator('[data-field="tags"] .chip')).to_have_count(0)

    def test_pasted_comma_separated_tags_become_one_tag_each(self, context, api, email):
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Name").fill("Pasted tags")
        page.evaluate("navigator.clipboard.writeText('alpha, beta,, gamma ')")
        page.get_by_label("Tags", exact=True).press("Control+V")
        expect(page.locator('[data-field="tags"] .chip-text')).to_have_text(["alpha", "beta", "gamma"])
        expect(page.get_by_label("Tags", exact=True)).to_have_value("")
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("heading", name="Record created")).to_be_visible()
        record_id = int(parse_qs(urlsplit(page.url).query)["id"][0])
        assert api.get(email, record_id)[1]["tags"] == ["alpha", "beta", "gamma"]

    def test_typed_text_with_commas_is_split_too(self, page: Page, api, email):
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Name").fill("Typed tags")
        add_tags(page, "first")
        page.get_by_label("Tags", exact=True).fill("second, third")
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("heading", name="Record created")).to_be_visible()
        record_id = int(parse_qs(urlsplit(page.url).query)["id"][0])
        assert api.get(email, record_id)[1]["tags"] == ["first", "second", "third"]


class TestConflicts:
    def _open_twice(self, context, api, email) -> tuple[dict[str, Any], Page, Page]:
        record = api.create(email=email, name="Original", notes="original notes")
        mine, theirs = context.new_page(), context.new_page()
        mine.goto(edit_url(record))
        expect(mine.get_by_label("Name")).to_have_value("Original")
        theirs.goto(edit_url(record))
        theirs.get_by_label("Name").fill("Their name")
        theirs.get_by_role("button", name="Save changes").click()
        expect(theirs.get_by_role("heading", name="Changes saved")).to_be_visible()
        mine.bring_to_front()
        mine.get_by_label("Notes").fill("my notes")
        mine.get_by_role("button", name="Save changes").click()
        alert = mine.get_by_role("alert")
        expect(alert).to_contain_text("This record changed since you opened it")
        expect(alert).to_contain_text("They changed: Name")
        expect(mine.get_by_label("Notes")).to_have_value("my notes")
        return record, mine, theirs

    def test_overwrite_saves_mine_over_theirs(self, context, api, email, console):
        console.allow(r"status of 412")
        record, mine, _ = self._open_twice(context, api, email)
        mine.get_by_role("button", name="Overwrite with my changes").click()
        expect(mine.get_by_role("heading", name="Changes saved")).to_be_visible()
        _, stored = api.get(email, record["id"])
        assert (stored["name"], stored["notes"], stored["version"]) == ("Original", "my notes", 3)

    def test_loading_theirs_replaces_the_form_then_saves_on_top(self, context, api, email, console):
        console.allow(r"status of 412")
        record, mine, _ = self._open_twice(context, api, email)
        mine.get_by_role("button", name=re.compile("Load their version")).click()
        expect(mine.get_by_label("Name")).to_have_value("Their name")
        expect(mine.get_by_label("Notes")).to_have_value("original notes")
        expect(mine.get_by_role("alert")).to_have_count(0)
        mine.get_by_label("Notes").fill("notes on top of theirs")
        mine.get_by_role("button", name="Save changes").click()
        expect(mine.get_by_role("heading", name="Changes saved")).to_be_visible()
        _, stored = api.get(email, record["id"])
        assert (stored["name"], stored["version"]) == ("Their name", 3)
        assert stored["notes"] == "notes on top of theirs"


class TestList:
    def test_paging_forward_and_back_with_the_email_filter(self, page: Page, api, email):
        names = [f"Paged {n:02}" for n in range(1, 24)]
        for name in names:
            api.create(email=email, name=name)

        page.goto("./")
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_label("Per page")).to_have_value("25")
        page.get_by_label("Per page").select_option("10")
        names_shown = page.locator("tbody th")
        summary = page.locator("#summary")

        expect(names_shown).to_have_text(names[:10])
        expect(summary).to_have_text("Records 1\N{EN DASH}10")
        expect(page.get_by_role("button", name="← Previous")).to_be_disabled()
        page.get_by_role("button", name="Next →").click()
        expect(names_shown).to_have_text(names[10:20])
        expect(page.locator("#page-label")).to_have_text("Page 2")
        page.get_by_role("button", name="Next →").click()
        expect(names_shown).to_have_text(names[20:])
        expect(summary).to_have_text("Records 21\N{EN DASH}23 of 23")
        expect(page.get_by_role("button", name="Next →")).to_be_disabled()
        expect(page.get_by_role("button", name="← Previous")).to_be_focused()
        page.get_by_role("button", name="← Previous").click()
        expect(names_shown).to_have_text(names[10:20])
        page.get_by_role("button", name="← Previous").click()
        expect(names_shown).to_have_text(names[:10])
        expect(page.get_by_role("button", name="← Previous")).to_be_disabled()

        # The filter and page size are in the address, so a reload or a shared link keeps them.
        expect(page).to_have_url(re.compile(rf"\?email={re.escape(quote(email))}&limit=10$"))
        page.reload()
        expect(names_shown).to_have_text(names[:10])

    @pytest.fixture
    def three(self, api, email):
        for name, tags, active in (
            ("Zoë Alpha", ["red"], True),
            ("bravo", ["blue"], False),
            ("Charlie", ["red", "green"], True),
        ):
            api.create(email=email, name=name, tags=tags, active=active)
        api.create(email=f"other-{email}", name="Zoe Elsewhere")

    def test_the_search_box_searches_the_server_and_the_address_keeps_it(self, page: Page, email, three):
        page.goto(f"./?email={quote(email)}")
        names = page.locator("tbody th")
        expect(names).to_have_count(3)
        page.keyboard.press("/")
        expect(page.get_by_label("Search", exact=True)).to_be_focused()
        page.keyboard.type("ZOE")  # case and accents ignored; only this email's records
        expect(names).to_have_text(["Zoë Alpha"])
        expect(page.locator("#summary")).to_contain_text("matching “ZOE”")
        expect(page).to_have_url(re.compile(r"[?&]q=ZOE(&|$)"))
        page.reload()
        expect(page.get_by_label("Search", exact=True)).to_have_value("ZOE")
        expect(names).to_have_text(["Zoë Alpha"])
        page.get_by_label("Search", exact=True).fill("nothing like it")
        expect(page.get_by_text("No records match.")).to_be_visible()
        page.get_by_role("button", name="Clear search and filters").click()
        expect(names).to_have_count(3)

    def test_a_late_answer_to_an_older_search_never_replaces_the_newer(self, page: Page, email, three):
        held = []

        def hold_the_first_search(route):
            if "q=zo" in route.request.url and not held:
                held.append(route)  # answered only after the newer search has been shown
            else:
                route.continue_()

        page.goto(f"./?email={quote(email)}")
        names = page.locator("tbody th")
        expect(names).to_have_count(3)
        page.route(re.compile(r"/records\?"), hold_the_first_search)
        search = page.get_by_label("Search", exact=True)
        with page.expect_request(lambda request: "q=zo" in request.url):
            search.fill("zo")
        search.fill("charlie")
        expect(names).to_have_text(["Charlie"])
        expect(page).to_have_url(re.compile(r"[?&]q=charlie(&|$)"))
        # The older request was aborted when the newer one left; if its answer still came, it
        # would be dropped by its sequence number. Either way the newer results stay.
        with contextlib.suppress(Exception):  # the page gave it up: nothing to answer
            held[0].continue_()
        page.wait_for_load_state("networkidle")
        expect(names).to_have_text(["Charlie"])
        expect(search).to_have_value("charlie")

    def test_tag_chips_and_status_filter(self, page: Page, email, three):
        page.goto(f"./?email={quote(email)}")
        names = page.locator("tbody th")
        expect(names).to_have_count(3)
        page.locator("tbody tr", has_text="Charlie").get_by_role("button", name="red").click()
        expect(names).to_have_text(["Zoë Alpha", "Charlie"])
        expect(page).to_have_url(re.compile(r"[?&]tag=red(&|$)"))
        page.get_by_label("Status").select_option("false")
        expect(page.get_by_text("No records match.")).to_be_visible()
        page.get_by_role("button", name="Remove tag filter red").click()
        expect(names).to_have_text(["bravo"])
        page.get_by_label("Status").select_option("")
        expect(names).to_have_count(3)

    def test_column_headers_sort_both_ways_by_mouse_and_keyboard(self, page: Page, email, three):
        page.goto(f"./?email={quote(email)}")
        names = page.locator("tbody th")
        expect(names).to_have_count(3)
        page.get_by_role("button", name="Name, sort ascending").click()
        expect(names).to_have_text(["bravo", "Charlie", "Zoë Alpha"])  # case-insensitive order
        heading = page.locator("thead th", has_text="Name")
        expect(heading).to_have_attribute("aria-sort", "ascending")
        expect(page).to_have_url(re.compile(r"[?&]sort=name(&|$)"))
        button = page.get_by_role("button", name="Name, sort descending")
        expect(button).to_be_focused()  # the focus stays on the heading after the reload
        page.keyboard.press("Enter")
        expect(names).to_have_text(["Zoë Alpha", "Charlie", "bravo"])
        expect(page.locator("thead th", has_text="Name")).to_have_attribute("aria-sort", "descending")
        expect(page.get_by_label("Sort", exact=True)).to_have_value("-name")
        page.get_by_label("Sort", exact=True).select_option("-updated_at")
        expect(names).to_have_text(["Charlie", "bravo", "Zoë Alpha"])
        expect(page.locator("thead th", has_text="Updated")).to_have_attribute("aria-sort", "descending")

    def test_an_email_without_records_shows_the_empty_state(self, page: Page, email):
        page.goto(f"./?email={quote(email)}")
        expect(page.get_by_text(f"No records for {email}.")).to_be_visible()
        page.get_by_role("main").get_by_role("link", name="New record").last.click()
        expect(page.get_by_label("Email")).to_have_value(email)
        expect(page.get_by_label("Name")).to_have_value("")

    def test_rows_link_to_the_record(self, page: Page, api, email):
        api.create(email=email, name="Linked")
        page.goto(f"./?email={quote(email)}")
        page.get_by_role("link", name="Linked", exact=True).click()
        expect(page.get_by_role("heading", name="Linked")).to_be_visible()


class TestErrors:
    def test_a_network_failure_says_so_and_keeps_what_was_typed(self, page: Page, api, email, console):
        console.allow(r"ERR_FAILED")
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Name").fill("Typed before the outage")
        add_tags(page, "kept")

        page.route("**/records", lambda route: route.abort())
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("alert")).to_contain_text("Could not reach the server")
        expect(page.get_by_label("Name")).to_have_value("Typed before the outage")
        expect(page.locator('[data-field="tags"] .chip-text')).to_have_text(["kept"])
        expect(page.get_by_role("button", name="Create record")).to_be_enabled()

        page.unroute("**/records")
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("heading", name="Record created")).to_be_visible()

    def test_a_server_error_on_the_list_offers_to_try_again(self, page: Page, console):
        console.allow(r"status of 503")
        page.route(
            "**/records?*",
            lambda route: route.fulfill(
                status=503,
                content_type="application/problem+json",
                headers={"Retry-After": "2"},
                body='{"title":"Service Unavailable","status":503,"detail":"the database is busy"}',
            ),
        )
        page.goto("./")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("Could not load the records")
        expect(alert).to_contain_text("the database is busy (retry in 2 s)")
        page.unroute("**/records?*")
        alert.get_by_role("button", name="Try again").click()
        expect(page.get_by_role("heading", name="Records")).to_be_visible()
        expect(page.get_by_role("alert")).to_have_count(0)

    def test_a_record_that_does_not_exist(self, page: Page, email, console):
        console.allow(r"status of 404")
        page.goto(f"view.html?email={quote(email)}&id=1")
        expect(page.get_by_role("alert")).to_contain_text("This record does not exist")

    def test_a_create_over_an_existing_key_marks_the_id(self, page: Page, api, email, console):
        console.allow(r"status of 409")
        api.create(email=email, id=7, name="First")
        page.goto("edit.html")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Id").fill("7")
        page.get_by_label("Name").fill("Second")
        page.get_by_role("button", name="Create record").click()
        expect(field_error(page, "id")).to_contain_text("already used")

    def test_leaving_with_unsaved_changes_asks_first(self, page: Page, api, email):
        record = api.create(email=email, name="Unsaved")
        page.goto(edit_url(record))
        expect(page.get_by_label("Name")).to_have_value("Unsaved")
        dialogs: list[str] = []

        def stay(dialog: Any) -> None:
            dialogs.append(dialog.type)
            dialog.dismiss()

        page.on("dialog", stay)
        # Untouched: Cancel leaves without asking.
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_role("heading", name="Unsaved")).to_be_visible()
        assert dialogs == []

        page.goto(edit_url(record))
        page.get_by_label("Notes").fill("typed, not saved")
        page.get_by_role("link", name="Cancel").click()
        expect(page.get_by_label("Notes")).to_have_value("typed, not saved")
        assert dialogs == ["beforeunload"]

        # Saving is not leaving with unsaved changes.
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("heading", name="Changes saved")).to_be_visible()
        assert dialogs == ["beforeunload"]


class TestAccessibility:
    @pytest.mark.parametrize("path", ["./", "edit.html"])
    def test_every_control_has_an_accessible_name(self, page: Page, path):
        page.goto(path)
        expect(page.locator("main h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll("input, select, textarea, button, a[href]")]
                .filter((el) => el.offsetParent !== null || el.type === "checkbox")
                .filter((el) => !(el.labels?.length || el.getAttribute("aria-label")
                    || el.getAttribute("aria-labelledby") || el.textContent.trim()))
                .map((el) => el.outerHTML)"""
        )
        assert unnamed == []

    def test_keyboard_only_create_edit_and_delete(self, page: Page, api, email):
        # The skip link is the first stop of every page, and leads past the header to the content.
        page.goto("./")
        expect(page.locator("table, .empty").first).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        expect(page.get_by_role("main").get_by_role("link", name="Import")).to_be_focused()
        # A form is ready to type in: its first field has the focus.
        page.goto("edit.html")
        expect(page.get_by_label("Email")).to_be_focused()
        page.keyboard.type(email)
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(page.get_by_label("Name")).to_be_focused()
        page.keyboard.type("Keyboard user")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Record created")).to_be_focused()

        # Then view, edit and delete it, by keyboard alone.
        tab_to(page, page.get_by_role("link", name="View the record"))
        page.keyboard.press("Enter")
        edit = page.get_by_role("main").get_by_role("link", name="Edit", exact=True)
        tab_to(page, edit)
        page.keyboard.press("Enter")
        expect(page.get_by_label("Name")).to_be_focused()
        page.keyboard.press("End")
        page.keyboard.type(", edited")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Changes saved")).to_be_focused()
        tab_to(page, page.get_by_role("link", name="View the record"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Keyboard user, edited")).to_be_visible()
        tab_to(page, page.get_by_role("button", name="Delete"))
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe choice first
        page.keyboard.press("Tab")
        expect(dialog.get_by_role("button", name="Delete")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Record deleted")).to_be_focused()
        status, listed = api.request("GET", f"records?email={quote(email)}")
        assert status == 200 and listed["items"] == []


class TestDocs:
    def test_swagger_ui_renders_the_api(self, page: Page):
        page.goto("docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("serverless-crud")
        operations = page.locator(".opblock-summary-path")
        expect(operations.first).to_be_visible()
        expect(page.locator(".opblock-summary-path", has_text="/records/{email}/{id}").first).to_be_visible()
        expect(page.locator(".servers select option").first).to_have_text(re.compile(r"^http://"))


class TestHostedElsewhere:
    @pytest.fixture
    def pages_origin(self, base_url: str) -> Iterator[str]:
        """The UI's files served by a plain static server at another origin, config.js naming the API."""
        static = resources.files("serverless_crud").joinpath("ui", "static")
        types = {"html": "text/html", "css": "text/css", "js": "text/javascript", "svg": "image/svg+xml"}

        class Static(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path.lstrip("/") or "index.html"
                if path == "assets/config.js":
                    body, kind = f'export const API_BASE = "{base_url}";'.encode(), "js"
                elif (file := static.joinpath(*path.split("/"))).is_file():
                    body, kind = file.read_bytes(), path.rsplit(".", 1)[-1]
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", types.get(kind, "application/octet-stream"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Static)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        server.server_close()

    def test_pages_from_another_origin_use_the_api_through_cors(self, page: Page, pages_origin, api, email):
        """The same files hosted elsewhere (as from S3): every API call is cross-origin."""
        record = api.create(email=email, name="Across origins")
        page.goto(f"{pages_origin}/?email={quote(email)}")
        page.get_by_role("link", name="Across origins", exact=True).click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(pages_origin)}/view\.html"))
        page.get_by_role("link", name="Edit").click()
        page.get_by_label("Name").fill("Saved across origins")
        page.get_by_role("button", name="Save changes").click()  # PUT with If-Match: a preflight
        expect(page.get_by_role("heading", name="Changes saved")).to_be_visible()
        _, stored = api.get(email, record["id"])
        assert (stored["name"], stored["version"]) == ("Saved across origins", 2)


class TestSchemaDriven:
    def test_a_field_added_to_the_schema_appears_in_the_form_with_its_checks(self, page: Page):
        """The form is built from /openapi.json: a new property needs no change to the UI."""

        def with_nickname(route: Any) -> None:
            document = json.loads(route.fetch().text())
            for name in ("RecordCreate", "RecordFields"):
                schema = document["components"]["schemas"][name]
                schema["properties"]["nickname"] = {
                    "title": "Nickname",
                    "description": "What friends say.",
                    "type": "string",
                    "maxLength": 5,
                }
                schema["required"].append("nickname")
            route.fulfill(json=document)

        page.route("**/openapi.json", with_nickname)
        page.goto("edit.html")
        nickname = page.get_by_label("Nickname")
        expect(nickname).to_have_attribute("aria-required", "true")
        expect(page.locator('[data-field="nickname"] .hint')).to_have_text(
            "What friends say. Up to 5 characters."
        )
        nickname.fill("Too long")
        page.get_by_role("button", name="Create record").click()
        expect(field_error(page, "nickname")).to_have_text(
            "Nickname must have at most 5 characters (it has 8)."
        )


class TestViewPage:
    def test_deleting_a_record_changed_since_it_was_opened_is_refused(self, page: Page, api, email, console):
        console.allow(r"status of 412")
        record = api.create(email=email, name="Before")
        page.goto(view_url(record))
        expect(page.get_by_role("heading", name="Before")).to_be_visible()
        status, _ = api.request("PUT", f"records/{quote(email, safe='')}/{record['id']}", {"name": "After"})
        assert status == 200

        page.get_by_role("button", name="Delete").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        expect(page.get_by_role("alert")).to_contain_text("This record changed since you opened it")
        assert api.get(email, record["id"])[0] == 200
        page.get_by_role("button", name="Reload the record").click()
        expect(page.get_by_role("heading", name="After")).to_be_visible()

    def test_copy_buttons_put_the_key_on_the_clipboard(self, context, api, email):
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        record = api.create(email=email, name="Copied")
        page = context.new_page()
        page.goto(view_url(record))
        page.get_by_role("button", name="Copy id").click()
        expect(page.get_by_role("status").filter(has_text="Copied id")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == str(record["id"])
