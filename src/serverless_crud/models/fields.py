"""The record's fields as the running product reads them, without pydantic: `models/schemas.json`
(generated from the model by `make schemas`) holds each field's rules and its usage (`usage()` in
models/record.py), and everything that lists fields derives from here: the derived search and sort
attributes, the listing's sorts, the CSV columns, the server-managed fields, the UI's labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS_FILE = Path(__file__).with_name("schemas.json")


@cache
def schemas() -> dict[str, Any]:
    """The record's JSON Schemas by name (RecordCreate, RecordFields, RecordPatch, Record)."""
    loaded: dict[str, Any] = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class FieldSpec:
    """One field of the record and how the product uses it."""

    name: str
    label: str
    help: str
    #: The JSON type of its value ("string", "integer", "number", "boolean", "array").
    kind: str
    #: "date-time" for timestamps, "email" for addresses, "" otherwise.
    format: str
    #: None, "words" (its folded words are searched) or "digits" (also its digits alone).
    search: str | None
    #: The sort's name (`sort=<field>` orders by the attribute `_<sort>`), or None.
    sort: str | None
    listed: bool
    #: None, "tag" (the listing's `tag` filter) or "flag" (a true/false filter).
    filter: str | None
    #: "partition", "sort" or None.
    key: str | None
    server: bool
    csv: bool

    @property
    def sort_attribute(self) -> str:
        """The derived attribute a sorted index is keyed on (`id` sorts on the table's own key)."""
        return f"_{self.sort}"

    @property
    def owner_index(self) -> str:
        """The GSI ordering one owner's records by this field."""
        return f"by_{self.sort}"

    @property
    def sharded_index(self) -> str:
        """The GSI ordering every owner's records by this field, over the write shards."""
        return f"all_by_{self.sort}"


def _spec(name: str, prop: dict[str, Any]) -> FieldSpec:
    branches = [b for b in prop.get("anyOf", ()) if b != {"type": "null"}]
    value = branches[0] if branches else prop
    return FieldSpec(
        name=name,
        label=prop.get("title", name),
        help=prop.get("x-help", ""),
        kind=str(value.get("type", "")),
        format=str(prop.get("format") or value.get("format") or ""),
        search=prop.get("x-search"),
        sort=prop.get("x-sort"),
        listed=bool(prop.get("x-list", False)),
        filter=prop.get("x-filter"),
        key=prop.get("x-key"),
        server=bool(prop.get("x-server", False)),
        csv=bool(prop.get("x-csv", True)),
    )


@cache
def fields() -> tuple[FieldSpec, ...]:
    """Every field of a record: the key (partition, sort), the client's fields, the server's, each
    group in the order the model declares it."""
    declared = [_spec(name, prop) for name, prop in schemas()["Record"]["properties"].items()]
    keys = sorted((f for f in declared if f.key), key=lambda f: f.key != "partition")
    return (*keys, *(f for f in declared if not f.key and not f.server), *(f for f in declared if f.server))


def field(name: str) -> FieldSpec:
    """The field called `name` (KeyError when the record has none)."""
    return _by_name()[name]


@cache
def _by_name() -> dict[str, FieldSpec]:
    return {f.name: f for f in fields()}


def names() -> frozenset[str]:
    """The names of every field."""
    return frozenset(_by_name())


@cache
def server_fields() -> frozenset[str]:
    """The fields the server manages (a client may not set them)."""
    return frozenset(f.name for f in fields() if f.server)


@cache
def csv_columns() -> tuple[str, ...]:
    """The columns of a CSV export, in this order (an import accepts any order of any of them)."""
    return tuple(f.name for f in fields() if f.csv)


@cache
def searched() -> tuple[FieldSpec, ...]:
    """The fields whose words `q` finds."""
    return tuple(f for f in fields() if f.search)


@cache
def sortable() -> tuple[FieldSpec, ...]:
    """The fields a listing may be sorted by (`sort=<field>`, `-` for descending); the sort key first."""
    return tuple(f for f in fields() if f.sort)


def filtered_by(kind: str) -> FieldSpec:
    """The field of a filter kind ("tag", "flag")."""
    return next(f for f in fields() if f.filter == kind)
