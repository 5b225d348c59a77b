"""The layer's Chromium runs without the features it has no use for (conftest.UNUSED_FEATURES)."""

from __future__ import annotations

from typing import Any


def test_no_window_draws_the_address_bar_pop_up(browser: Any) -> None:
    """If Chromium renames the feature, this fails instead of the layer silently taking twice the CPU."""
    context = browser.new_context()
    try:
        context.new_page().set_content("<p>A page</p>")
        targets = browser.new_browser_cdp_session().send("Target.getTargets")["targetInfos"]
    finally:
        context.close()
    assert [t["url"] for t in targets if t["url"].startswith("chrome://")] == []
