"""Screenshots of every page, desktop and phone (and the list in dark mode).

`make screenshots` writes them to docs/screenshots/ (SCREENSHOTS_DIR); in `make test` they go to a
temporary folder, so the test still proves that each page renders its content.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

SAMPLES = [
    {"name": "Ada Lovelace", "email": "ada@example.com", "tags": ["math", "engines"], "amount": 1843.1},
    {"name": "Grace Hopper", "email": "grace@example.com", "tags": ["navy", "cobol"], "amount": 0.1},
    {
        "name": "Alan Turing",
        "email": "alan@example.com",
        "tags": ["logic"],
        "phone": "+44 161 496 0000",
        "notes": "Computable numbers.\nThe imitation game.",
        "amount": "12345678901234567890.123456789",
    },
    {"name": "Edsger Dijkstra", "email": "edsger@example.com", "active": False},
]
#: File name suffix: device.
DEVICES = {"desktop": "desktop", "mobile": "phone"}


@pytest.fixture(scope="module")
def records(api):
    created = []
    for sample in SAMPLES:
        # The amount is written as number text, so that every digit reaches the server.
        fields = ", ".join(
            f'"{key}": {value if key == "amount" else json.dumps(value)}' for key, value in sample.items()
        )
        created.append(api.create_raw("{" + fields + "}"))
    return created


@pytest.mark.parametrize("setting", list(DEVICES))
def test_screenshots(open_context, records, setting, tmp_path):
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    turing = records[2]
    key = f"email={quote(turing['email'])}&id={turing['id']}"
    shots = {
        "index": ("./", "Records"),
        "view": (f"view.html?{key}", "Alan Turing"),
        "edit": (f"edit.html?{key}", "Edit Alan Turing"),
        "create": ("edit.html", "New record"),
        "success": (f"success.html?action=updated&{key}&name=Alan%20Turing", "Changes saved"),
    }
    with open_context(DEVICES[setting]) as context:
        page = context.new_page()
        for name, (path, heading) in shots.items():
            page.goto(path)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            page.wait_for_load_state("networkidle")
            target = folder / f"{name}-{setting}.png"
            page.screenshot(path=str(target), full_page=True, animations="disabled", caret="hide")
            assert target.stat().st_size > 5_000
    if setting == "desktop":
        with open_context("desktop", color_scheme="dark") as context:
            page = context.new_page()
            page.goto("./")
            expect(page.locator("tbody tr").first).to_be_visible()
            page.screenshot(
                path=str(folder / "index-desktop-dark.png"), full_page=True, animations="disabled"
            )
            page.goto("docs")
            expect(page.locator(".swagger-ui .info .title")).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(folder / "docs-desktop.png"), animations="disabled")
