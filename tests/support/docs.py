"""The commands the documentation shows: README.md and every page of docs/, as fenced code blocks.

A shell block (```sh) runs as it is pasted, in order with the other shell blocks of its page. A block
that cannot run on this machine says why in its title (```sh title="On AWS"), which the site shows
above it; the titles allowed, and what each means, are `NOT_RUN_HERE`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = (ROOT / "README.md", *sorted(DOCS.rglob("*.md")))
SHELL = frozenset({"sh", "bash", "shell"})
#: Block titles that mark a shell block not run by the docs test, and why.
NOT_RUN_HERE = {
    "On AWS": "needs an AWS account and credentials",
    "Quick start": "starts the server, or the suite this test is part of",
    "Takes minutes: not part of make test": "a benchmark run",
}
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)
TITLE = re.compile(r'\btitle="(?P<title>[^"]*)"')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    language: str
    title: str | None
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs_here(self) -> bool:
        return self.language in SHELL and self.title is None


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of `page` that start at the left margin, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = match.group("info").strip()
        language = info.split(" ", 1)[0] if info else ""
        title = TITLE.search(info)
        line = text.count("\n", 0, match.start()) + 1
        found.append(
            Block(page, line, language, title.group("title") if title else None, match.group("body"))
        )
    return found


def command_lines(script: str) -> list[list[str]]:
    """Each simple command of a shell script as words (comments, continuations and `$( … )` unwrapped)."""
    joined = script.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        for part in re.split(r"\$\(|\)|&&|\|\||[|;]", line):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:
                continue
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words = words[1:]  # VAR=value before a command
            if words:
                commands.append(words)
    return commands
