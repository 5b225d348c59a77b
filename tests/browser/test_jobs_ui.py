"""The import page, and the list's export and erase, in Chromium against `serverless-crud serve`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, local_server


@pytest.fixture(scope="module")
def small_limit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose API takes bodies of up to 1,024 bytes (the template's smallest MaxBodyBytes)."""
    state = tmp_path_factory.mktemp("small-limit")
    overrides = ("--parameter-overrides", "AuthMode=none", "MaxBodyBytes=1024")
    with local_server(state, *overrides) as (url, _):
        yield url


def _people(tmp_path: Path, email: str, count: int, name: str, extra: str = "") -> Path:
    """A CSV file of `count` valid rows of `email` (ids 1...count), then the `extra` lines."""
    rows = "".join(f"{email},{n},{name} {n},{n}.5,a|b\n" for n in range(1, count + 1))
    file = tmp_path / "people.csv"
    file.write_text(f"email,id,name,amount,tags\n{rows}{extra}")
    return file


def test_a_file_over_the_body_limit_is_uploaded_then_imported(
    open_context: Any, small_limit: str, email: str, tmp_path: Path
) -> None:
    file = _people(tmp_path, email, 200, "Uploaded person")
    assert file.stat().st_size > 4 * 1024  # well over the limit
    with open_context("desktop", base_url=small_limit) as context:
        page = context.new_page()
        sent: list[str] = []
        page.on("request", lambda r: sent.append(f"{r.method} {r.url.split('?')[0]}"))
        page.goto("import.html")
        page.evaluate(  # every text the progress line shows, however briefly
            """() => { const line = document.getElementById("progress-text"); window.shown = [];
                new MutationObserver(() => window.shown.push(line.textContent))
                    .observe(line, { childList: true, characterData: true, subtree: true }); }"""
        )
        page.get_by_label("File to import").set_input_files(str(file))
        page.get_by_role("button", name="Import", exact=True).click()
        summary = page.locator("#report-summary")
        expect(summary).to_have_text("200 rows: 200 stored, 0 rejected.", timeout=60_000)
        shown = page.evaluate("window.shown")
        # The size in words ("5.2 kB"), the percentage up to 100.
        assert any(re.fullmatch(r"Uploading: 100% of \d+(\.\d)? kB", text) for text in shown), shown
    # The page knew the limit: no body was refused; the file went to the bucket, then the import named it.
    assert f"POST {small_limit}imports/uploads" in sent
    assert any(s.startswith("POST ") and "/filesbucket" in s for s in sent)
    assert sent.count(f"POST {small_limit}imports") == 1
    status, record = Api(small_limit).get(email, 200)
    assert (status, record["name"]) == (200, "Uploaded person 200")


def test_import_a_file_watch_progress_and_read_the_report(
    page: Page, api: Any, email: str, tmp_path: Path
) -> None:
    file = _people(tmp_path, email, 60, "Person", f"{email},61,,1,\n{email},x,Bad id,1,\n")
    page.goto("import.html")
    page.get_by_label("File to import").set_input_files(str(file))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("#report-summary")).to_have_text("62 rows: 60 stored, 2 rejected.", timeout=60_000)
    expect(page.locator("#bar")).to_have_attribute("value", "62")
    table = page.get_by_role("table", name="Rejected rows")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("62")
    expect(table.locator("tbody tr").first).to_contain_text("name")
    expect(table.locator("tbody tr").first).to_contain_text("is required")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("63")
    # The rejected rows, as a CSV file to download (safe to open in a spreadsheet): the server's
    # report of every one.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows (CSV)").click()
    assert download.value.suggested_filename.startswith("rejected-rows-")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0] == ["line", "field", "message"]
    assert [row[:2] for row in rows[1:]] == [["62", "name"], ["63", "id"]]
    status, record = api.get(email, 60)
    assert status == 200
    assert record["amount"] == record["amount"].__class__("60.5")


def test_a_file_of_another_kind_is_refused_with_a_sentence(page: Page, tmp_path: Path, console: Any) -> None:
    console.allow("status of 422")  # the browser logs the refused upload; the page shows why
    file = tmp_path / "notes.csv"
    file.write_text("colour,size\nred,big\n")
    page.goto("import.html")
    page.get_by_label("File to import").set_input_files(str(file))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#rejected")).to_contain_text("the first line must be a header naming record fields")


def test_export_from_the_list_downloads_the_file(page: Page, api: Any, email: str) -> None:
    api.create_raw(
        f'{{"email": "{email}", "name": "Exported One", "amount": 12345678901234567890.123456789}}'
    )
    page.goto(f"./?email={quote(email)}")
    expect(page.locator("table tbody tr")).to_have_count(1)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0].startswith("email,id,name")
    assert "Exported One" in text
    assert "12345678901234567890.123456789" in text
    assert download.value.suggested_filename.endswith(".csv")


def test_erase_names_how_many_records_go_and_erases_them(page: Page, api: Any, email: str) -> None:
    for n in range(3):
        api.create(email=email, name=f"Going {n}")
    page.goto(f"./?email={quote(email)}")
    expect(page.locator("table tbody tr")).to_have_count(3)
    page.get_by_role("button", name=f"Erase all records of {email}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"This erases all 3 records of {email}")
    dialog.get_by_role("button", name="Erase 3 records").click()
    expect(page.locator("table tbody tr")).to_have_count(0, timeout=60_000)
    status, listing = api.request("GET", f"records?email={quote(email)}")
    assert (status, listing["items"]) == (200, [])
