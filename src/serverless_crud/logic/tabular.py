"""Records as files: CSV and JSON Lines, read into request bodies and written from records.

CSV: a header row naming record fields (any order; the server's fields, such as `version` and
`created_at`, which exports carry, are read and ignored), one record per row; the columns and how a
cell reads come from the field declarations (models/fields.py). An empty cell is an absent field; a
list's items are separated by `|`; a true/false field is `true` or `false`; numbers are read as exact
decimals, so a value survives an export and an import digit for digit. JSON Lines: one record object
per line, numbers exact. A row becomes the body a POST /records would carry, and the same rules check it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from serverless_crud.errors import FieldError
from serverless_crud.models import exact_json
from serverless_crud.models.fields import csv_columns, field, names, server_fields
from serverless_crud.models.values import number_text

CSV = "text/csv"
JSON_LINES = "application/x-ndjson"
FORMATS = {"csv": CSV, "jsonl": JSON_LINES}
#: Separates the items of a list field in a cell.
TAG_SEPARATOR = "|"


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


def read_rows(data: bytes, media_type: str) -> Iterator[Row]:
    """The rows of a file, numbered by the line they start on (a CSV header is line 1)."""
    text = _text(data)
    if media_type == CSV:
        yield from _csv_rows(text)
    else:
        yield from _json_rows(text)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"the file is not UTF-8 text (byte {error.start + 1})") from None


def _csv_header(header: list[str]) -> list[str]:
    columns = [name.strip() for name in header]
    unknown = [name for name in columns if name not in names()]
    if not columns or unknown or "email" not in columns:
        shown = f" (not record fields: {', '.join(unknown[:5])})" if unknown else ""
        raise UnreadableFile(
            "the first line must be a header naming record fields, email among them"
            f"{shown}; the fields are {', '.join(csv_columns())}"
        )
    if len(set(columns)) != len(columns):
        raise UnreadableFile("the header names a field twice")
    return columns


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    managed = server_fields()
    try:
        header = _csv_header(next(reader, []))
        line = reader.line_num + 1
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                line = reader.line_num + 1
                continue
            if len(cells) != len(header):
                problem = FieldError("row", f"has {len(cells)} cells; the header names {len(header)}")
                yield Row(line, {}, (problem,))
            else:
                body = {
                    name: _cell(name, cell)
                    for name, cell in zip(header, cells, strict=True)
                    if cell != "" and name not in managed
                }
                yield Row(line, body)
            line = reader.line_num + 1
    except csv.Error as error:
        raise UnreadableFile(f"the CSV cannot be read past line {reader.line_num}: {error}") from None


def _cell(name: str, cell: str) -> Any:
    """A CSV cell as the JSON value it stands for; a cell that is not one is passed on as text, so
    that the record's rules name the field and say what it must be."""
    kind = field(name).kind
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


def _json_rows(text: str) -> Iterator[Row]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value = _json_object(line)
        if isinstance(value, dict):
            yield Row(number, {k: v for k, v in value.items() if k not in server_fields()})
        elif isinstance(value, exact_json.MalformedJson):
            yield Row(number, {}, (FieldError("row", f"is not valid JSON: {value}"),))
        else:
            yield Row(number, {}, (FieldError("row", "is not a JSON object"),))


def write(records: Iterable[dict[str, Any]], fmt: str) -> bytes:
    """Records as a CSV (header first) or JSON Lines file."""
    out = io.StringIO(newline="")
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        columns = csv_columns()
        writer.writerow(columns)
        for record in records:
            writer.writerow([_text_of(record.get(column)) for column in columns])
    else:
        for record in records:
            out.write(exact_json.dumps(record))
            out.write("\n")
    return out.getvalue().encode()


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return number_text(value)
    if isinstance(value, list):
        return TAG_SEPARATOR.join(str(v) for v in value)
    return str(value)


__all__ = ["CSV", "FORMATS", "JSON_LINES", "Row", "UnreadableFile", "check_header", "read_rows", "write"]
