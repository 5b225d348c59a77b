"""The pieces of a job that handle files: CSV cells safe for spreadsheets, files read as streams within
their limits, repeated keys found on disk, S3 objects written and joined as streams (against moto's S3,
which enforces S3's multipart rules)."""

from __future__ import annotations

import io
import itertools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serverless_crud.logic import tabular
from serverless_crud.logic.duplicates import DuplicateKeys
from serverless_crud.models.csv_cells import FORMULA_STARTS, neutralise, restore

LIMITS = tabular.Limits(line_bytes=1024, rows=1000)


# -- safe cells -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("'=already", "''=already"),
        ("''", "'''"),
        ("'", "'"),
        ("'tis", "'tis"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_a_cell_that_would_run_is_prefixed_and_restored_exactly(text: str, cell: str) -> None:
    assert neutralise(text) == cell
    assert restore(cell) == text


def test_every_text_round_trips() -> None:
    alphabet = [*FORMULA_STARTS, "'", "a", " ", "|", "\n"]
    for length in range(4):
        for chars in itertools.product(alphabet, repeat=length):
            text = "".join(chars)
            assert restore(neutralise(text)) == text
            assert neutralise(text)[:1] not in FORMULA_STARTS


def test_an_export_writes_numbers_as_numbers_and_text_safely() -> None:
    from decimal import Decimal

    record = {
        "email": "a@example.com",
        "id": 3,
        "name": "=1+1",
        "phone": "+1 555",
        "amount": Decimal("-5"),
        "tags": ["-x", "y"],
    }
    line = tabular.encode([record], "csv").decode()
    assert line.startswith("a@example.com,3,'=1+1,'+1 555,,'-x|y,-5,,")
    names, rows = _csv(tabular.header("csv") + line.encode())
    (row,) = rows
    body = tabular.parse(names, row).body
    assert (body["name"], body["phone"], body["tags"], body["amount"]) == (
        "=1+1",
        "+1 555",
        ["-x", "y"],
        Decimal("-5"),
    )


def test_the_rejected_rows_report_is_safe() -> None:
    report = tabular.report_csv(
        [{"line": 2, "errors": [{"field": "=cmd", "message": "is not a record field"}]}]
    )
    assert report == b"line,field,message\n2,'=cmd,is not a record field\n"


# -- reading a file as a stream ---------------------------------------------------------------------
def _csv(data: bytes, limits: tabular.Limits = LIMITS) -> tuple[list[str] | None, list[tabular.RawRow]]:
    scanned = tabular.scan(io.BufferedReader(io.BytesIO(data)), tabular.CSV, limits)
    return scanned.names, list(scanned.rows)


def test_rows_are_numbered_by_the_line_they_start_on() -> None:
    names, rows = _csv(b'\xef\xbb\xbfemail,name,notes\na@example.com,A,"two\nlines"\n\n\nb@example.com,B,\n')
    assert names == ["email", "name", "notes"]
    assert [(r.line, r.data) for r in rows] == [
        (2, ["a@example.com", "A", "two\nlines"]),
        (6, ["b@example.com", "B", ""]),
    ]


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (
            b"email,name\n" + b"a@example.com,A\n" * 1001,
            "the file has more than 1,000 rows, the limit of one import",
        ),
        (
            b"email,name\na@example.com," + b"x" * 1100 + b"\n",
            "line 2 is longer than 1,024 bytes, the limit of one line",
        ),
        (b"email,name\na@example.com,\xff\n", "the file is not UTF-8 text (line 2, byte 15)"),
        (b"colour\nred\n", "the first line must be a header naming record fields"),
    ],
)
def test_a_file_over_a_limit_is_unreadable_where_it_goes_over(data: bytes, sentence: str) -> None:
    with pytest.raises(tabular.UnreadableFile, match=sentence.replace("(", r"\(").replace(")", r"\)")):
        _csv(data)


def test_a_line_exactly_at_the_limit_is_read() -> None:
    cell = "x" * (1024 - len("a@example.com,"))
    _, rows = _csv(f"email,name\r\na@example.com,{cell}\r\n".encode())
    assert rows[0].data == ["a@example.com", cell]


def test_reading_holds_a_line_not_the_file() -> None:
    """A generator of 200,000 lines: the scan pulls them one at a time."""

    class Lines(io.RawIOBase):
        def __init__(self) -> None:
            self.lines: Iterator[bytes] = itertools.chain(
                [b"email,id,name\n"], (f"a{n}@example.com,{n},N\n".encode() for n in range(200_000))
            )
            self.pulled = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            line = next(self.lines, b"")
            self.pulled += 1
            buffer[: len(line)] = line
            return len(line)

    source = Lines()
    scanned = tabular.scan(io.BufferedReader(source, 64), tabular.CSV, tabular.Limits(1024, 10**6))
    first = next(scanned.rows)
    assert first.line == 2
    assert source.pulled < 10


def test_keys_of_raw_rows() -> None:
    names, rows = _csv(b"email,id,name\nAnn@Example.COM,7,A\nb@example.com,,B\nc@example.com,x,C\n")
    assert [tabular.key_of(names, r) for r in rows] == [("ann@example.com", 7), None, None]
    line = tabular.RawRow(3, '{"email": "J@example.com", "id": 9}\n')
    assert tabular.key_of(None, line) == ("j@example.com", 9)


# -- repeated keys ------------------------------------------------------------------------------------
def test_repeated_keys_are_found_chunk_by_chunk(tmp_path: Path) -> None:
    rows = [("a@example.com", n % 7000) for n in range(10_000)]  # 3,000 repeats
    random.Random(5).shuffle(rows)
    expected: dict[int, dict[int, int]] = {}
    first: dict[tuple[str, int], int] = {}
    with DuplicateKeys(tmp_path) as keys:
        for position, key in enumerate(rows):
            line = position + 2
            keys.add(*key, line, position)
            if key in first:
                expected.setdefault(position // 1000, {})[line] = first[key]
            else:
                first[key] = line
        found = list(keys.by_chunk(1000, 10))
    assert [chunk for chunk, _ in found] == sorted(expected)
    assert dict(found) == expected
