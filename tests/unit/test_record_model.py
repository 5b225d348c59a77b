"""The record rules: the pydantic model is their one definition; models/schemas.json is generated
from it, and the validator that runs on every request reads that file. These tests prove the file
is current and that the validator and pydantic accept and reject the same bodies."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scripts.generate_schemas import render

from serverless_crud.errors import InvalidParameter
from serverless_crud.models.fields import SCHEMAS_FILE, names, schemas
from serverless_crud.models.fields import fields as record_fields
from serverless_crud.models.keys import MAX_ID, key_candidates, normalise_email, parse_id, plain_integer
from serverless_crud.models.record import MODELS
from serverless_crud.models.validation import validator


def test_schemas_file_is_generated_from_the_model():
    assert SCHEMAS_FILE.read_text(encoding="utf-8") == render(), "run `make schemas` after changing the model"


def _defaults(schema: str) -> dict[str, Any]:
    """Each field of `schema` that has a default, with it (read from the model's schema)."""
    properties = schemas()[schema]["properties"]
    return {name: prop["default"] for name, prop in properties.items() if "default" in prop}


def test_create_normalises_and_fills_defaults():
    values, errors = validator("RecordCreate")({"email": "Bob@Example.COM", "name": " Bob ", "phone": " "})
    assert errors == []
    assert values == {**_defaults("RecordCreate"), "email": "bob@example.com", "name": "Bob", "phone": None}
    assert set(values) == set(schemas()["RecordCreate"]["properties"])


def test_patch_keeps_only_what_was_sent_including_nulls():
    values, errors = validator("RecordPatch")({"notes": None, "amount": 2}, defaults=False)
    assert (values, errors) == ({"notes": None, "amount": Decimal(2)}, [])


def test_every_error_is_reported_with_its_field_in_plain_words():
    _, errors = validator("RecordFields")(
        {"name": "   ", "tags": ["ok", "x" * 51], "active": 1, "bogus": 1, "version": 3}
    )
    assert {(e.field, e.message) for e in errors} == {
        ("name", "must not be blank"),
        ("tags.1", "must be at most 50 characters"),
        ("active", "must be true or false"),
        ("bogus", "is not a field of a record"),
        ("version", "is managed by the server"),
    }


def test_limits_apply_to_the_text_as_sent_and_storage_trims_it():
    # The published maxLength is what is checked: a padded 200-character name is 202 characters.
    _, errors = validator("RecordFields")({"name": " " + "x" * 200 + " "})
    assert [e.field for e in errors] == ["name"]
    values, errors = validator("RecordFields")({"name": " " + "x" * 198 + " "})
    assert errors == [] and values["name"] == "x" * 198


def test_stored_rows_read_with_defaults_for_what_they_lack_and_integers_from_decimals():
    values, errors = validator("Record", stored=True)(
        {"email": "Min@Example.com", "id": Decimal(8), "name": "Minimal", "extra": {"SS": ["x"]}}
    )
    assert errors == []
    assert values == {**_defaults("Record"), "email": "Min@Example.com", "id": 8, "name": "Minimal"}
    assert set(values) == names()  # every field, and nothing else (the extra attribute is left out)
    assert values["version"] == 1


def test_stored_rows_with_odd_types_name_the_fields():
    _, errors = validator("Record", stored=True)(
        {"email": "a@example.com", "id": Decimal("1.5"), "name": 5, "version": "3", "tags": "a,b"}
    )
    assert {e.field for e in errors} == {"id", "name", "version", "tags"}


@pytest.mark.parametrize("raw", ["a@b.co", "A.B+tag@Sub.Example.org", "ü@exämple.com"])
def test_valid_addresses_are_stored_lower_cased(raw):
    assert normalise_email(raw) == raw.lower()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a",
        "a@b",
        "a b@c.d",
        "@c.d",
        "a@.d",
        "x" * 250 + "@e.com",
        "..@example.com",
        "a/b..c@example.com",
        " a@example.com",
        "a@example.test",
        "a@localhost",
        '"q"@example.com',
    ],
)
def test_invalid_addresses(raw):
    with pytest.raises(ValueError, match="must be a valid email address"):
        normalise_email(raw)


def test_key_candidates_try_the_stored_spelling_first():
    assert key_candidates("a@example.com") == ["a@example.com"]
    assert key_candidates("Min@Example.com") == ["Min@Example.com", "min@example.com"]
    assert key_candidates("not an address") == ["not an address"]
    assert key_candidates("") == [] and key_candidates("x" * 2049) == []


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
        ("1.0", False),
        ("1e3", False),
        ("٣", False),  # a digit to str.isdigit(), not a plain ASCII integer
        ("9" * 5000, False),  # longer than int() converts: refused before converting
    ],
)
def test_id_keys(raw, ok):
    if ok:
        assert parse_id(raw) == int(raw)
    else:
        with pytest.raises(InvalidParameter):
            parse_id(raw)


def test_plain_integers():
    assert plain_integer("0" * 30 + "7", 1, 10) == 7
    assert plain_integer("11", 1, 10) is None


# -- pydantic and the validator agree ---------------------------------------------------------------
def _pydantic(name: str, body: dict[str, Any]) -> tuple[dict[str, Any] | None, set[str]]:
    model, _ = MODELS[name]
    try:
        return model.model_validate(body).model_dump(exclude_unset=name == "RecordPatch"), set()
    except ValidationError as error:
        return None, {".".join(str(p) for p in e["loc"]) for e in error.errors()}


def _ours(name: str, body: dict[str, Any]) -> tuple[dict[str, Any] | None, set[str]]:
    values, errors = validator(name)(body, defaults=name != "RecordPatch")
    return (None, {e.field for e in errors}) if errors else (values, set())


texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=" \t\n\x1c\u3000x", max_size=5),
    st.sampled_from(["", " ", "a" * 200, "a" * 201, " " + "a" * 199, "a" * 50, "a" * 51]),
)
numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [Decimal("1e126"), Decimal("9.99e125"), Decimal("1e-130"), Decimal("1e-131"), 0, MAX_ID, MAX_ID + 1]
    ),
)
values_ = st.one_of(st.none(), st.booleans(), texts, numbers, st.lists(texts, max_size=22))
emails = st.one_of(
    st.emails(), st.sampled_from(["A@Example.com", "..@example.com", "a@b", "x@example.test"]), texts
)
#: The client's fields, a server field and a name that is no field (from the model, never spelled out).
fields = st.sampled_from(
    [f.name for f in record_fields() if not f.key and not f.server]
    + [next(f.name for f in record_fields() if f.server), "bogus"]
)
bodies = st.dictionaries(fields, values_, max_size=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["RecordFields", "RecordPatch", "RecordCreate"]),
    body=bodies,
    email=emails,
    record_id=st.one_of(st.none(), numbers, st.booleans()),
)
def test_the_validator_accepts_and_rejects_exactly_what_the_model_does(name, body, email, record_id):
    if name == "RecordCreate":
        body = {**body, "email": email, **({"id": record_id} if record_id is not None else {})}
    expected, ours = _pydantic(name, body), _ours(name, body)
    assert ours[0] == expected[0]
    assert ours[1] == expected[1]


def test_the_published_schemas_are_the_models():
    document = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    assert set(document) == set(MODELS)


def test_not_blank_is_exactly_what_str_strip_keeps():
    import re

    from serverless_crud.models.values import NOT_BLANK

    pattern = re.compile(NOT_BLANK)
    for code in range(0x110000):
        char = chr(code)
        assert bool(pattern.search(char)) is (not char.isspace()), hex(code)


def test_json_schema_validators_read_not_blank_alike():
    import jsonschema_rs

    from serverless_crud.models.values import NOT_BLANK

    schema = jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK})
    for text in ["\x85", "\x1c", " ", "\u3000", "", " \t"]:
        assert not schema.is_valid(text), repr(text)
    for text in ["a", " a ", "\ufeff", "\u200b"]:
        assert schema.is_valid(text), repr(text)
