"""The decisions page's index: built from the headings and their `Superseded by` lines."""

from __future__ import annotations

import pytest
from scripts.docs_hooks import DecisionsError, parse, render

from tests.support.docs import DOCS

PAGE = """# Design decisions

Newest last.

## 1. First choice
Superseded by decision 3.

- Context: something.

## 2. Second choice
Partly superseded by decision 3: only the size.

## 3. Third choice
- Decision: the newest.
"""


def test_the_index_marks_superseded_decisions_and_links_each():
    rendered = render(PAGE)
    index = rendered[rendered.index("## Index") : rendered.index("## 1.")]
    assert "| 1 | [~~First choice~~](#decision-1) | superseded by [3](#decision-3) |" in index
    assert "| 2 | [Second choice](#decision-2) | partly superseded by [3](#decision-3) |" in index
    assert "| 3 | [Third choice](#decision-3) | in force |" in index
    assert "## 3. Third choice { #decision-3 }" in rendered


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (PAGE + "\n## 2. Again\n", "decision 2 appears twice"),
        (PAGE.replace("decision 3.", "decision 9."), "superseded by decision 9, which does not exist"),
    ],
)
def test_a_broken_page_fails_the_build(page, message):
    with pytest.raises(DecisionsError, match=message):
        render(page)


def test_the_real_page_marks_the_decisions_later_ones_replaced():
    decisions = {decision.number: decision for decision in parse((DOCS / "decisions.md").read_text())}
    assert decisions[30].superseded_by == [("Superseded", 46)]
    assert decisions[61].superseded_by == [("Partly superseded", 71), ("Superseded", 120)]
    render((DOCS / "decisions.md").read_text())  # numbers unique, supersessions name real decisions
