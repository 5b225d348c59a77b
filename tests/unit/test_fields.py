"""Everything that lists fields derives from their declarations in the model (models/record.py, read
through models/fields.py): the search and sort attributes, the listing's sorts, the CSV columns, the
server's fields. Each test reads the fields from the model; none spells them out."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from serverless_crud.api.listing import parse_listing, sorts
from serverless_crud.dal.derived import derived, matches, sort_attributes, sources, text_of
from serverless_crud.logic import tabular
from serverless_crud.models.fields import (
    csv_columns,
    fields,
    names,
    schemas,
    searched,
    server_fields,
    sortable,
)
from serverless_crud.models.record import USAGE_KEYWORDS, Record


def _value(kind: str, word: str) -> object:
    """A value of a field's kind holding `word` where it can."""
    return {"array": [word], "string": f"Some {word} here", "number": Decimal(3), "integer": 3}.get(
        kind, True
    )


def test_the_fields_are_the_models_in_key_client_server_order():
    assert names() == set(Record.model_fields)
    order = [f.name for f in fields()]
    keys = [f.name for f in fields() if f.key]
    server = [f.name for f in fields() if f.server]
    assert order[: len(keys)] == keys and order[len(order) - len(server) :] == server
    assert fields()[0].key == "partition"


def test_every_field_has_a_label_and_help_for_people_and_a_description_for_the_api():
    record = schemas()["Record"]["properties"]
    for spec in fields():
        assert spec.label and spec.help, spec.name
        assert record[spec.name].get("description"), spec.name


def test_each_schema_carries_the_usage_declared_once():
    record = schemas()["Record"]["properties"]
    for name, schema in schemas().items():
        for field, prop in schema["properties"].items():
            for keyword in USAGE_KEYWORDS:
                assert prop.get(keyword) == record[field].get(keyword), (name, field, keyword)


@pytest.mark.parametrize("spec", searched(), ids=lambda s: s.name)
def test_a_search_finds_the_words_of_every_searchable_field(spec):
    record = {"email": "a@example.com", "id": 1, spec.name: _value(spec.kind, "Zébulon")}
    assert "zebulon" in text_of(record)
    assert matches(record, ["zebulon"], [], None)
    assert derived(record)["_text"] == text_of(record)


def test_fields_not_searchable_are_not_searched():
    for spec in fields():
        if not spec.search and spec.kind in ("string", "array"):
            record = {"email": "a@example.com", "id": 1, spec.name: _value(spec.kind, "Zébulon")}
            assert "zebulon" not in text_of(record), spec.name


def test_the_derived_attributes_come_from_the_declared_fields():
    assert sources()["_text"] == tuple(f.name for f in searched())
    assert set(sort_attributes()) == {f.name for f in sortable() if f.key != "sort"}
    record = {f.name: _value(f.kind, "x") for f in fields()} | {"email": "a@example.com", "id": 7}
    assert set(derived(record)) == set(sources())
    # An update that sets one field rewrites exactly the attributes derived from it.
    for spec in fields():
        touched = {a for a, src in sources().items() if spec.name in src and set(src) <= {spec.name}}
        assert touched <= set(derived(record, given=[spec.name])), spec.name


def test_the_listing_sorts_are_the_sortable_fields():
    assert sorts() == tuple(f.name for f in sortable())
    for name in sorts():
        assert parse_listing({"sort": [f"-{name}"]}).sort == name


def test_csv_columns_are_the_fields_in_their_order():
    assert csv_columns() == tuple(f.name for f in fields() if f.csv)
    written = tabular.write([], "csv").decode()
    assert written == ",".join(csv_columns()) + "\n"


def _read_rows(data: bytes) -> list[tabular.Row]:
    """A CSV file read as an import reads it: scanned line by line, each row parsed."""
    scanned = tabular.scan(io.BytesIO(data), tabular.CSV, tabular.Limits(line_bytes=4096, rows=10))
    return [tabular.parse(scanned.names, raw) for raw in scanned.rows]


def test_a_csv_row_reads_each_field_by_its_kind():
    values = {"integer": "12", "number": "1.50", "boolean": "false", "array": "a|b", "string": "text"}
    header = [f.name for f in fields() if not f.server]
    row = [
        values.get(f.kind, "text") if f.key != "partition" else "a@example.com"
        for f in fields()
        if not f.server
    ]
    (read,) = _read_rows((",".join(header) + "\n" + ",".join(row) + "\n").encode())
    for spec in fields():
        if spec.server:
            continue
        expected = {"integer": 12, "number": Decimal("1.50"), "boolean": False, "array": ["a", "b"]}
        assert read.body[spec.name] == expected.get(spec.kind, row[header.index(spec.name)]), spec.name


def test_server_fields_are_refused_in_requests_and_ignored_in_files():
    from serverless_crud.models.validation import validator

    for name in server_fields():
        _, errors = validator("RecordFields")({"name": "x", name: "1"})
        assert [(e.field, e.message) for e in errors] == [(name, "is managed by the server")]
    header = ["email", *sorted(server_fields())]
    (read,) = _read_rows(
        (",".join(header) + "\n" + ",".join(["a@example.com"] + ["1"] * len(server_fields())) + "\n").encode()
    )
    assert read.body == {"email": "a@example.com"}
