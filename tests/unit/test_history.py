"""A change of a record as its history entry: how, who, when and what changed, from the stream's
records as DynamoDB writes them (the decoding of dal/history.py, the rules of logic/history.py)."""

from __future__ import annotations

from typing import Any

from serverless_crud.dal.history import change_of, entry_key, record_key
from serverless_crud.logic.history import entry_of
from serverless_crud.models.history import OUTSIDE, UNKNOWN, changed_fields, expiry, history_fields

BASE = {
    "email": {"S": "a@example.com"},
    "id": {"N": "7"},
    "name": {"S": "Ada"},
    "version": {"N": "1"},
    "created_at": {"S": "2026-01-01T00:00:00.000Z"},
    "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
    "updated_by": {"S": "sub-1"},
    "_text": {"S": "ada"},
    "_how": {"S": "create"},
    "_how_version": {"N": "1"},
}


def stream_record(event: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"SequenceNumber": "1234", "ApproximateCreationDateTime": 1790000000}
    if old:
        body["OldImage"] = old
    if new:
        body["NewImage"] = new
    return {"eventName": event, "dynamodb": body}


def test_a_marked_write_is_signed_and_dated_by_the_record() -> None:
    entry = entry_of(change_of(stream_record("INSERT", None, BASE), "email", "id"), 365)
    assert (entry.how, entry.by, entry.at, entry.version, entry.kind) == (
        "create",
        "sub-1",
        "2026-01-01T00:00:00.000Z",
        1,
        "a",
    )
    assert "_text" not in entry.image and "_how" not in entry.image
    assert entry.changed == ("name",)  # the fields the image has
    assert entry.expires == expiry("2026-01-01T00:00:00.000Z", 365)
    assert entry_key(entry) == "2026-01-01T00:00:00.000Z#000000000001#a"
    assert record_key(entry.email, entry.id) == "a@example.com#7"


def test_a_write_that_keeps_the_version_and_the_mark_is_outside_the_api() -> None:
    changed = {**BASE, "name": {"S": "Ada L"}}
    entry = entry_of(change_of(stream_record("MODIFY", BASE, changed), "email", "id"), 0)
    assert (entry.how, entry.by, entry.version, entry.expires) == (OUTSIDE, UNKNOWN, 1, None)
    assert entry.kind == "s" + "1234".zfill(40)
    assert entry.at == "2026-09-21T14:13:20.000Z"  # the stream's time (1790000000 s)
    assert (entry.changed, entry.before) == (("name",), {"name": "Ada"})


def test_a_mark_for_another_version_is_not_the_apis() -> None:
    bumped = {**BASE, "version": {"N": "2"}, "name": {"S": "B"}}  # the mark still says version 1
    assert change_of(stream_record("MODIFY", BASE, bumped), "email", "id").marked is None
    marked = {**bumped, "_how": {"S": "patch"}, "_how_version": {"N": "2"}}
    assert change_of(stream_record("MODIFY", BASE, marked), "email", "id").marked == "patch"


def test_a_deletion_keeps_the_last_values_and_changes_nothing() -> None:
    entry = entry_of(change_of(stream_record("REMOVE", BASE, None), "email", "id"), 365)
    assert (entry.kind, entry.how, entry.changed, entry.image["name"]) == ("z", OUTSIDE, (), "Ada")


def test_other_key_attribute_names_are_the_records_key() -> None:
    renamed = {k: v for k, v in BASE.items() if k not in ("email", "id")}
    renamed.update(pk={"S": "a@example.com"}, **{"1": {"N": "7"}})
    entry = entry_of(change_of(stream_record("INSERT", None, renamed), "pk", "1"), 365)
    assert (entry.email, entry.id) == ("a@example.com", 7)


def test_only_the_records_own_fields_are_compared() -> None:
    assert "version" not in history_fields() and "email" not in history_fields()
    assert changed_fields({"name": "a", "version": 1}, {"name": "a", "version": 2}) == ()
    assert changed_fields(None, {"name": "a"}) == ("name",)
    assert changed_fields({"phone": "1"}, {}) == ("phone",)
