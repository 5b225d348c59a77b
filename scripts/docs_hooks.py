"""MkDocs hooks of the documentation site (mkdocs.yml `hooks:`).

The design decisions page gets an index built from its own headings and `Superseded by decision N`
lines, so that a decision is declared once (its heading) and nobody keeps a second list in step; each
decision's heading gets the stable anchor `decision-N`. A decision number used twice, or a supersession
naming a decision that does not exist, fails the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DECISIONS_PAGE = "decisions.md"
HEADING = re.compile(r"^## (\d+)\. (.+?)\s*$", re.M)
SUPERSEDED = re.compile(r"^(Partly superseded|Superseded) by decision (\d+)\b", re.M)


class DecisionsError(ValueError):
    """The decisions page breaks its own conventions."""


@dataclass
class Decision:
    """One decision: its number, title and what later decisions replace it."""

    number: int
    title: str
    superseded_by: list[tuple[str, int]] = field(default_factory=list)


def parse(markdown: str) -> list[Decision]:
    """The decisions in the page's order, each with the supersession lines of its section."""
    headings = list(HEADING.finditer(markdown))
    decisions: list[Decision] = []
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(markdown)
        section = markdown[heading.end() : end]
        decision = Decision(int(heading.group(1)), heading.group(2))
        decision.superseded_by = [(kind, int(number)) for kind, number in SUPERSEDED.findall(section)]
        decisions.append(decision)
    return decisions


def check(decisions: list[Decision]) -> None:
    """Raise DecisionsError for a number used twice or a supersession by a decision that is not there."""
    seen: set[int] = set()
    for decision in decisions:
        if decision.number in seen:
            raise DecisionsError(f"decision {decision.number} appears twice in {DECISIONS_PAGE}")
        seen.add(decision.number)
    for decision in decisions:
        for _, number in decision.superseded_by:
            if number not in seen:
                raise DecisionsError(
                    f"decision {decision.number} is superseded by decision {number}, which does not exist"
                )


def index(decisions: list[Decision]) -> str:
    """A Markdown table of every decision by number, marking the superseded ones."""
    rows = ["| # | decision | status |", "|---:|---|---|"]
    for decision in sorted(decisions, key=lambda d: d.number):
        status = "; ".join(
            f"{kind.lower()} by [{number}](#decision-{number})" for kind, number in decision.superseded_by
        )
        title = (
            f"~~{decision.title}~~"
            if any(k == "Superseded" for k, _ in decision.superseded_by)
            else decision.title
        )
        rows.append(
            f"| {decision.number} | [{title}](#decision-{decision.number}) | {status or 'in force'} |"
        )
    return "\n".join(rows)


def render(markdown: str) -> str:
    """The decisions page with anchors on its headings and the index before the first decision."""
    decisions = parse(markdown)
    check(decisions)
    anchored = HEADING.sub(lambda m: f"## {m.group(1)}. {m.group(2)} {{ #decision-{m.group(1)} }}", markdown)
    first = HEADING.search(anchored)
    at = first.start() if first else len(anchored)
    return f"{anchored[:at]}## Index\n\n{index(decisions)}\n\n{anchored[at:]}"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """MkDocs hook: rewrite the decisions page; leave every other page as it is."""
    if page.file.src_uri != DECISIONS_PAGE:
        return markdown
    return render(markdown)
