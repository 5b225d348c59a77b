"""The record's History panel, its field-by-field diff and restore, the Recently deleted page and the
Undo notice, in Chromium against `serverless-crud serve` (whose stream writes the history), by
keyboard, and clean under axe-core."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import violations


def _until_history(api: Any, record: dict[str, Any], versions: int) -> None:
    """Wait until the stream has written `versions` entries (a guard, not a timing assertion)."""
    path = f"records/{quote(record['email'], safe='')}/{record['id']}/history"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, page = api.request("GET", path)
        if status == 200 and len(page["items"]) >= versions:
            return
        time.sleep(0.2)
    raise AssertionError(f"{path} never had {versions} entries")


def _view(record: dict[str, Any]) -> str:
    return f"view.html?email={quote(record['email'])}&id={record['id']}"


def test_the_history_panel_shows_each_change_and_restores_a_version_by_keyboard(
    page: Page, api: Any, email: str
) -> None:
    record = api.create(email=email, name="Ada", notes="First notes")
    path = f"records/{quote(email, safe='')}/{record['id']}"
    status, _ = api.request(
        "PATCH", path, {"name": "Ada Lovelace"}, {"Content-Type": "application/merge-patch+json"}
    )
    assert status == 200
    _until_history(api, record, 2)

    page.goto(_view(record))
    panel = page.get_by_role("region", name="History")
    expect(panel.locator("li.history-entry")).to_have_count(2)
    newest = panel.locator('li[data-version="2"]')
    expect(newest.get_by_role("heading")).to_contain_text("Version 2 · Edited")
    expect(newest.locator('tr[data-field="name"] th')).to_have_text("Name")  # the field's label
    expect(newest.locator('tr[data-field="name"] del')).to_have_text("Ada")
    expect(newest.locator('tr[data-field="name"] ins')).to_have_text("Ada Lovelace")
    expect(newest).to_contain_text("Current version")
    assert violations(page) == []

    # Restore version 1 with the keyboard alone: the confirmation names it, Cancel has the focus.
    restore = panel.get_by_role("button", name="Restore this version (version 1)")
    restore.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Restore version 1?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Restore version 1")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Version 1 restored as version 3")
    expect(page.locator("h1")).to_have_text("Ada")
    assert api.get(email, record["id"])[1]["name"] == "Ada"


def test_undo_after_a_save_and_after_a_delete(page: Page, api: Any, email: str) -> None:
    record = api.create(email=email, name="Before")
    _until_history(api, record, 1)
    page.goto(f"edit.html?email={quote(email)}&id={record['id']}")
    name = page.get_by_label(re.compile("^Name"))
    expect(name).to_have_value("Before")
    name.fill("After")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_role("heading", name="Changes saved")).to_be_visible()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    assert violations(page) == []
    page.keyboard.press("Tab")  # from the focused heading, the Undo button is the next stop
    expect(undo).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Undone")).to_contain_text(
        "version 1's values are back"
    )
    assert api.get(email, record["id"])[1]["name"] == "Before"

    page.goto(_view(record))
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Record deleted")).to_be_visible()
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text="Undone")).to_contain_text("the record is back")
    assert api.get(email, record["id"])[0] == 200


def test_the_recently_deleted_page_restores_a_record(page: Page, api: Any, email: str) -> None:
    record = api.create(email=email, name="Gone for now")
    status, _ = api.request("DELETE", f"records/{quote(email, safe='')}/{record['id']}")
    assert status == 204
    page.goto(f"deleted.html?email={quote(email)}")
    row = page.locator(f'tr[data-id="{record["id"]}"]')
    expect(row).to_contain_text("Gone for now")
    assert violations(page) == []
    button = row.get_by_role("button", name="Restore Gone for now")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Restore this record?")).to_contain_text("as version 2")
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    expect(page.locator("#status")).to_contain_text("Restored Gone for now")
    expect(page.get_by_role("link", name="Gone for now")).to_be_focused()
    assert api.get(email, record["id"])[1]["version"] == 2
