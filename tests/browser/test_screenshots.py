"""Screenshots of every page, phone (375 px) and desktop (1280 px), light and dark, with the realistic
records, compared with the committed baselines in docs/screenshots/ (which the docs show): a layout
regression fails the suite. `make screenshots` re-takes the baselines (SCREENSHOTS_UPDATE=1).

The comparison is stable: fixed records and ids, one locale and time zone, the pages' clock fixed
3 hours after the records were written, the pinned fonts (tests/browser/fonts.py), animations and
the caret off; what still changes by itself is masked (a record's dates, the local server's port).
`make screenshots` re-takes only the baselines that differ beyond the tolerance.
Pixels may differ a little (anti-aliasing): a pixel counts as changed when a channel moves by more
than PIXEL_THRESHOLD, and a page fails when more than MAX_CHANGED of its pixels changed, or its size
did. On a failure the new picture and a map of the changes are written under build/screenshots/.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.realistic import (
    LOCAL_ADMIN,
    LONGEST_EMAIL,
    RECORDS,
    RealisticSite,
    realistic_site,
    run_import,
    start_signed_in,
)

pytestmark = pytest.mark.runs_for(55)

ROOT = Path(__file__).resolve().parents[2]
BASELINES = ROOT / "docs" / "screenshots"
FAILURES = ROOT / "build" / "screenshots"
UPDATE = os.environ.get("SCREENSHOTS_UPDATE") == "1"
PIXEL_THRESHOLD = 40
MAX_CHANGED = 0.002
MASK_COLOUR = "#8a8f98"
WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealisticSite]:
    with realistic_site(tmp_path_factory.mktemp("screenshots")) as running:
        yield running


@pytest.fixture(scope="module")
def import_job(site: RealisticSite) -> str:
    """A finished import of a small file with two rows that break the rules."""
    rows = (
        f"email,id,name,amount\n{LONGEST_EMAIL},1,,1\nnot-an-email,2,Someone,1\n{LONGEST_EMAIL},3,Fine,2.5\n"
    )
    return run_import(site, rows, LOCAL_ADMIN)


def shots(site: RealisticSite, job: str) -> dict[str, tuple[str, str]]:
    """Each page: its address, and what shows once it has rendered."""
    key = site.key_query(1)
    name = quote(RECORDS[1]["name"])
    return {
        "list": ("./?sort=-name&limit=10", "table.records tbody tr >> nth=9"),
        "record": (f"view.html?{key}", "[data-field=tags] .chip"),
        "edit": (f"edit.html?{key}", "[data-field=tags] .chip"),
        "new": ("edit.html", "#record-form input"),
        "done": (f"success.html?action=updated&{key}&name={name}", ".success h1"),
        "signin": ("signin.html?signed-out=1", "#signin-email"),
        "import": (f"import.html?job={job}", ".data-table tbody tr"),
        "docs": ("docs", ".opblock-summary-path"),
        "not-found": ("no/such/page", ".error-page h1"),
    }


def changed(expected: Any, actual: Any) -> tuple[float, Any]:
    """The share of pixels that changed beyond the threshold, and a picture of where."""
    from PIL import ImageChops

    difference = ImageChops.difference(expected.convert("RGB"), actual.convert("RGB"))
    # A pixel's largest channel change, then changed (255) or not (0).
    largest = ImageChops.lighter(ImageChops.lighter(*difference.split()[:2]), difference.split()[2])
    mask = largest.point(lambda value: 255 if value > PIXEL_THRESHOLD else 0)
    count = mask.histogram()[255]
    return count / (mask.width * mask.height), mask


def compare(name: str, png: bytes) -> str | None:
    """None when `png` matches the baseline `name` (or it was written, with SCREENSHOTS_UPDATE=1);
    otherwise what differs."""
    from PIL import Image

    baseline = BASELINES / f"{name}.png"
    actual = Image.open(io.BytesIO(png))
    difference = _difference(name, Image.open(baseline), actual) if baseline.exists() else "no baseline"
    if UPDATE:
        # Only a baseline that would fail is re-taken: the others stay as they are, byte for byte.
        if difference:
            BASELINES.mkdir(parents=True, exist_ok=True)
            actual.save(baseline, optimize=True)
        return None
    if difference == "no baseline":
        return f"{name}: no baseline ({baseline.relative_to(ROOT)}); `make screenshots` takes it"
    return difference


def _difference(name: str, expected: Any, actual: Any) -> str | None:
    """What differs between the baseline and the new picture beyond the tolerance (saved, with a
    map of the changes, under build/screenshots/), or None."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    if expected.size != actual.size:
        actual.save(FAILURES / f"{name}.png")
        return f"{name}: {actual.size} px, the baseline {expected.size} px"
    share, mask = changed(expected, actual)
    if share > MAX_CHANGED:
        actual.save(FAILURES / f"{name}.png")
        mask.save(FAILURES / f"{name}-changes.png")
        return (
            f"{name}: {share:.2%} of the pixels changed (see {FAILURES.relative_to(ROOT)}/{name}-changes.png)"
        )
    return None


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_every_page_looks_as_its_baseline(
    browser: Any, site: RealisticSite, import_job: str, console: Any, device: str, scheme: str
) -> None:
    console.allow(r"status of 404")  # the unknown page
    width = WIDTHS[device]
    context = browser.new_context(
        base_url=site.url,
        viewport={"width": width, "height": 800},
        is_mobile=device == "phone",
        has_touch=device == "phone",
        color_scheme=scheme,
        locale="en-GB",
        timezone_id="Europe/London",
        reduced_motion="reduce",
    )
    context.set_default_timeout(15_000)
    context.on("page", console.watch)
    start_signed_in(context, site.refresh_tokens[LOCAL_ADMIN])
    # The pages' clock three hours after the records were written: every one was "3 hours ago".
    context.clock.set_fixed_time(site.loaded_at + timedelta(hours=3))
    try:
        page = context.new_page()
        differences = []
        for name, (path, rendered) in shots(site, import_job).items():
            differences.append(compare(f"{name}-{width}-{scheme}", take(page, path, rendered)))
    finally:
        context.close()
    assert [d for d in differences if d] == []


def take(page: Page, path: str, rendered: str) -> bytes:
    """The whole page once rendered, with what changes by itself masked."""
    page.goto(path)
    expect(page.locator(rendered).first).to_be_visible()
    if not path.startswith("signin.html"):
        expect(page.locator("#account .account-email")).to_be_attached()
    page.wait_for_load_state("networkidle")
    if page.locator("#history").count():  # the record's history, loaded after the record
        expect(page.locator("#history .history-entry").first).to_be_visible()
    page.evaluate("document.fonts.ready.then(() => true)")
    # A record's dates and its history's (written when the site was made) change from run to run.
    masks = [
        page.locator("dd time"),
        page.locator(".history time"),
        page.locator(".swagger-ui .servers select"),
    ]
    return page.screenshot(
        full_page=True, animations="disabled", caret="hide", mask=masks, mask_color=MASK_COLOUR
    )


def test_the_docs_show_every_baseline() -> None:
    """docs/ui.md shows every screenshot that is compared, and no other."""
    shown = set(re.findall(r"screenshots/([\w-]+)\.png", (ROOT / "docs" / "ui.md").read_text()))
    taken = {path.stem for path in BASELINES.glob("*.png")}
    assert shown == taken
