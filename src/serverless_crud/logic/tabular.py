"""Records as files: CSV and JSON Lines, read into request bodies and written from records.

CSV: a header row naming record fields (any order; the server's fields, such as `version` and
`created_at`, which exports carry, are read and ignored), one record per row; the columns and how a
cell reads come from the field declarations (models/fields.py). An empty cell is an absent field; a
list's items are separated by `|`; a true/false field is `true` or `false`; numbers are read as exact
decimals, so a value survives an export and an import digit for digit. JSON Lines: one record object
per line, numbers exact. A row becomes the body a POST /records would carry, and the same rules check it.

Files are read as a stream, one line at a time (`scan`; `parse` makes a raw row a body), so memory
holds a line, never the file: a line longer than the limit, or more rows than the limit, make the
file unreadable at that point.
Text cells are written safe for spreadsheets and read back exactly (`models.csv_cells`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any, TypeVar

from serverless_crud.errors import FieldError
from serverless_crud.models import exact_json
from serverless_crud.models import fields as declared
from serverless_crud.models.csv_cells import neutralise, restore
from serverless_crud.models.fields import csv_columns, field, server_fields
from serverless_crud.models.keys import quick_key
from serverless_crud.models.values import number_text

T = TypeVar("T")
CSV = "text/csv"
JSON_LINES = "application/x-ndjson"
FORMATS = {"csv": CSV, "jsonl": JSON_LINES}
#: Separates the items of a list field in a cell.
TAG_SEPARATOR = "|"
#: Kinds of field whose cells are numbers or booleans, never text (never prefixed, never restored).
NOT_TEXT_KINDS = frozenset({"integer", "number", "boolean"})


@dataclass(frozen=True)
class Limits:
    """How big a file may be read: bytes in one line (its end of line aside), and rows."""

    line_bytes: int
    rows: int


class UnreadableFile(ValueError):
    """The file cannot be read as records at all (no valid header, not text): one sentence why."""


@dataclass(frozen=True)
class Row:
    """One row of a file: its line number, and the body it stands for (or why it has none)."""

    line: int
    body: dict[str, Any]
    errors: tuple[FieldError, ...] = ()


def check_header(data: bytes, media_type: str, *, partial: bool = False) -> None:
    """UnreadableFile unless `data` starts like a file of records (the API checks before a job starts);
    `partial`: `data` is the file's beginning only (a character may be cut at its end)."""
    text = data.decode("utf-8-sig", errors="ignore") if partial else _text(data)
    if media_type == CSV:
        try:
            header = next(csv.reader(io.StringIO(text, newline="")), [])
        except csv.Error as error:
            raise UnreadableFile(f"the header line cannot be read as CSV: {error}") from None
        _csv_header(header)
        return
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise UnreadableFile("the file has no records")
    if not isinstance(_json_object(first), dict):
        raise UnreadableFile("the first line is not a JSON object; JSON Lines has one record object per line")


@dataclass(frozen=True)
class RawRow:
    """One row of a file as read, not yet parsed: its line, and its CSV cells or its JSON text."""

    line: int
    data: list[str] | str


@dataclass(frozen=True)
class Scan:
    """A file read as a stream of raw rows: the CSV header's names (None for JSON Lines), the rows."""

    names: list[str] | None
    rows: Iterator[RawRow]


def scan(stream: IO[bytes], media_type: str, limits: Limits) -> Scan:
    """The file read from `stream` line by line into raw rows, numbered by the line they start on (a
    CSV header is line 1; blank lines are skipped); UnreadableFile, when it is met, for a header
    that is not one, a line or a row count over `limits`, or text that is not UTF-8."""
    lines = _lines(stream, limits.line_bytes)
    if media_type == CSV:
        reader = csv.reader(lines)
        names = _csv_header(_read(reader, lambda: next(reader, [])))
        return Scan(names, _limited(_csv_raw(reader), limits.rows))
    return Scan(None, _limited(_json_raw(lines), limits.rows))


def parse(names: list[str] | None, raw: RawRow) -> Row:
    """A raw row as the body a POST /records would carry, or the errors that say why it is none."""
    if names is None:
        return _json_row(raw.line, str(raw.data))
    cells = list(raw.data)
    if len(cells) != len(names):
        return Row(
            raw.line, {}, (FieldError("row", f"has {len(cells)} cells; the header names {len(names)}"),)
        )
    managed = server_fields()
    body = {
        name: _cell(name, cell)
        for name, cell in zip(names, cells, strict=True)
        if cell != "" and name not in managed
    }
    return Row(raw.line, body)


def key_of(names: list[str] | None, raw: RawRow) -> tuple[str, int] | None:
    """The (email, id) key a raw row names, as stored; None when it names none (no id: one is
    derived) or one that is not valid (its parsed body's checks say why)."""
    if names is None:
        try:
            value = json.loads(str(raw.data))
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
        email, record_id = value.get("email"), value.get("id")
    else:
        cells = raw.data
        if len(cells) != len(names) or "id" not in names:
            return None
        email = restore(cells[names.index("email")])
        record_id = _cell("id", cells[names.index("id")])
    if not isinstance(email, str) or not isinstance(record_id, int) or isinstance(record_id, bool):
        return None
    try:
        return quick_key(email), record_id
    except ValueError:
        return None


def _limited(rows: Iterator[RawRow], limit: int) -> Iterator[RawRow]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise UnreadableFile(f"the file has more than {limit:,} rows, the limit of one import")
        yield row


def _read(reader: Any, step: Callable[[], T]) -> T:
    try:
        return step()
    except csv.Error as error:
        raise UnreadableFile(f"the CSV cannot be read past line {reader.line_num}: {error}") from None


def _lines(stream: IO[bytes], limit: int) -> Iterator[str]:
    """The file's lines as text, each with its end of line; UnreadableFile for one over `limit`
    bytes or one that is not UTF-8 (a UTF-8 byte order mark at the start is dropped)."""
    number = 0
    while line := stream.readline(limit + 2):
        number += 1
        if len(line) > limit and len(line.rstrip(b"\r\n")) > limit:
            raise UnreadableFile(f"line {number:,} is longer than {limit:,} bytes, the limit of one line")
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                f"the file is not UTF-8 text (line {number:,}, byte {error.start + 1})"
            ) from None
        yield text


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"the file is not UTF-8 text (byte {error.start + 1})") from None


def _csv_header(header: list[str]) -> list[str]:
    columns = [name.strip() for name in header]
    unknown = [name for name in columns if name not in declared.names()]
    if not columns or unknown or "email" not in columns:
        shown = f" (not record fields: {', '.join(unknown[:5])})" if unknown else ""
        raise UnreadableFile(
            "the first line must be a header naming record fields, email among them"
            f"{shown}; the fields are {', '.join(csv_columns())}"
        )
    if len(set(columns)) != len(columns):
        raise UnreadableFile("the header names a field twice")
    return columns


def _csv_raw(reader: Any) -> Iterator[RawRow]:
    line = reader.line_num + 1
    while (cells := _read(reader, lambda: next(reader, None))) is not None:
        if any(cell.strip() for cell in cells):
            yield RawRow(line, cells)
        line = reader.line_num + 1


def _cell(name: str, cell: str) -> Any:
    """A CSV cell as the JSON value it stands for; a cell that is not one is passed on as text, so
    that the record's rules name the field and say what it must be. A text cell loses the prefix
    that kept it from running as a formula (`csv_cells.restore`)."""
    kind = field(name).kind
    if kind not in NOT_TEXT_KINDS:
        cell = restore(cell)
    if kind == "integer":
        return int(cell) if cell.strip().isdigit() and cell.strip().isascii() else cell
    if kind == "number":
        try:
            number = Decimal(cell.strip())
        except InvalidOperation:
            return cell
        return number if number.is_finite() else cell
    if kind == "boolean":
        return {"true": True, "false": False}.get(cell.strip().lower(), cell)
    if kind == "array":
        return cell.split(TAG_SEPARATOR)
    return cell


def _json_object(line: str) -> Any:
    try:
        return exact_json.parse(line)
    except exact_json.MalformedJson as error:
        return error


def _json_raw(lines: Iterator[str]) -> Iterator[RawRow]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield RawRow(number, line)


def _json_row(line: int, text: str) -> Row:
    value = _json_object(text)
    if isinstance(value, dict):
        return Row(line, {k: v for k, v in value.items() if k not in server_fields()})
    if isinstance(value, exact_json.MalformedJson):
        return Row(line, {}, (FieldError("row", f"is not valid JSON: {value}"),))
    return Row(line, {}, (FieldError("row", "is not a JSON object"),))


def header(fmt: str) -> bytes:
    """What a file of records starts with: the CSV header line (JSON Lines has none)."""
    return (",".join(csv_columns()) + "\n").encode() if fmt == "csv" else b""


def encode(records: Iterable[dict[str, Any]], fmt: str) -> bytes:
    """Records as CSV rows (text cells safe for spreadsheets) or JSON Lines, without a header."""
    out = io.StringIO(newline="")
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        columns = csv_columns()
        for record in records:
            writer.writerow([_text_of(column, record.get(column)) for column in columns])
    else:
        for record in records:
            out.write(exact_json.dumps(record))
            out.write("\n")
    return out.getvalue().encode()


def write(records: Iterable[dict[str, Any]], fmt: str) -> bytes:
    """Records as a whole CSV (header first) or JSON Lines file."""
    return header(fmt) + encode(records, fmt)


def _text_of(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return number_text(value)
    if isinstance(value, list):
        return neutralise(TAG_SEPARATOR.join(str(v) for v in value))
    return str(value) if field(column).kind in NOT_TEXT_KINDS else neutralise(str(value))


def report_csv(rejected: Iterable[dict[str, Any]], *, with_header: bool = True) -> bytes:
    """Rejected rows as CSV (line, field, message; one line per error), text cells safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    if with_header:
        writer.writerow(REPORT_COLUMNS)
    for row in rejected:
        for problem in row["errors"]:
            writer.writerow([row["line"], neutralise(problem["field"]), neutralise(problem["message"])])
    return out.getvalue().encode()


REPORT_COLUMNS = ("line", "field", "message")


__all__ = [
    "CSV",
    "FORMATS",
    "JSON_LINES",
    "Limits",
    "RawRow",
    "Row",
    "Scan",
    "UnreadableFile",
    "check_header",
    "encode",
    "header",
    "key_of",
    "parse",
    "report_csv",
    "scan",
    "write",
]
