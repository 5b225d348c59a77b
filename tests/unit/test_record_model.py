from decimal import Decimal

import pytest

from serverless_crud.errors import InvalidInput, InvalidParameter
from serverless_crud.models.keys import parse_email, parse_id
from serverless_crud.models.record import RecordCreate, RecordFields, RecordPatch, validate


def test_create_normalises_and_fills_defaults():
    values = validate(RecordCreate, {"email": " Bob@Example.COM ", "name": " Bob ", "phone": ""})
    assert values == {
        "email": "bob@example.com",
        "name": "Bob",
        "phone": None,
        "notes": None,
        "tags": [],
        "amount": None,
        "active": True,
        "id": None,
    }


def test_patch_keeps_only_what_was_sent_including_nulls():
    assert validate(RecordPatch, {"notes": None, "amount": 2}) == {"notes": None, "amount": Decimal(2)}


def test_every_error_is_reported_with_its_field():
    with pytest.raises(InvalidInput) as caught:
        validate(RecordFields, {"name": "", "tags": ["ok", "x" * 51], "active": 1, "bogus": 1})
    fields = {e.field for e in caught.value.errors}
    assert fields == {"name", "tags.1", "active", "bogus"}


@pytest.mark.parametrize("raw", ["a@b.co", "A.B+tag@Sub.Example.org"])
def test_valid_email_keys(raw):
    assert parse_email(raw) == raw.lower()


@pytest.mark.parametrize("raw", ["", "a", "a@b", "a b@c.d", "@c.d", "a@.d", "x" * 250 + "@e.com"])
def test_invalid_email_keys(raw):
    with pytest.raises(InvalidParameter):
        parse_email(raw)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("1", True),
        ("9007199254740991", True),
        ("0", False),
        ("9007199254740992", False),
        ("01", True),
        ("+1", False),
        ("", False),
    ],
)
def test_id_keys(raw, ok):
    if ok:
        assert parse_id(raw) == int(raw)
    else:
        with pytest.raises(InvalidParameter):
            parse_id(raw)
