"""Text cells of the CSV files the product writes, safe to open in a spreadsheet (OWASP "CSV
injection", CWE-1236), and read back exactly.

A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula (and a tab or a carriage
return before one is skipped), so a record named `=HYPERLINK(...)` would run when an export is opened.
`neutralise` prefixes such a text cell with `'`, which spreadsheets show as text; `restore` takes the
prefix off again when a file is imported. A text cell that already begins with `'` followed by one of
those characters (or by another `'`) gets a `'` too, so that `restore(neutralise(text)) == text` for
every text: an export imports back exactly. Numbers are written as numbers and never prefixed (`-5`
stays a number). Every CSV writer of the product (exports, rejected-row reports, the CLI's report)
passes its text cells through `neutralise`; the import passes text cells through `restore`.
"""

from __future__ import annotations

#: What makes a spreadsheet read a cell as a formula when it comes first.
FORMULA_STARTS = frozenset("=+-@\t\r")
PREFIX = "'"


def neutralise(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs as a formula."""
    if not text:
        return text
    first = text[0]
    if first in FORMULA_STARTS or (first == PREFIX and len(text) > 1 and text[1] in _ESCAPED):
        return PREFIX + text
    return text


def restore(cell: str) -> str:
    """The text a CSV cell written by `neutralise` (or a person, the same way) stands for."""
    if len(cell) > 1 and cell[0] == PREFIX and cell[1] in _ESCAPED:
        return cell[1:]
    return cell


_ESCAPED = FORMULA_STARTS | {PREFIX}

__all__ = ["FORMULA_STARTS", "neutralise", "restore"]
