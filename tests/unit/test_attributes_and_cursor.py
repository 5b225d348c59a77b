from decimal import Decimal

import pytest

from serverless_crud.dal.attributes import deserialise_item, serialise_item
from serverless_crud.dal.cursor import decode_cursor, encode_cursor
from serverless_crud.errors import InvalidCursor


def test_items_round_trip_with_exact_numbers():
    values = {
        "s": "x",
        "n": Decimal("0.1"),
        "i": 5,
        "b": True,
        "z": None,
        "l": ["a", Decimal("1E+2")],
        "m": {"k": False},
    }
    item = serialise_item(values)
    assert item["n"] == {"N": "0.1"} and item["i"] == {"N": "5"} and item["l"]["L"][1] == {"N": "100"}
    back = deserialise_item(item)
    assert back == {**values, "i": Decimal(5)}
    assert all(not isinstance(v, float) for v in back.values())


def test_unsupported_values_are_refused():
    with pytest.raises(TypeError):
        serialise_item({"f": object()})


SECRET = b"k" * 32
KEY = {"email": {"S": "a@example.com"}, "id": {"N": "17"}}


def test_cursor_round_trips_within_its_scope():
    cursor = encode_cursor(SECRET, "scan", KEY)
    assert decode_cursor(SECRET, "scan", cursor) == KEY


@pytest.mark.parametrize(
    ("secret", "scope", "alter"),
    [
        (b"other" * 8, "scan", lambda c: c),
        (SECRET, "q:a@example.com", lambda c: c),
        (SECRET, "scan", lambda c: c.replace(".", ".A", 1)),
        (SECRET, "scan", lambda c: "A" + c),
        (SECRET, "scan", lambda c: c.split(".")[0]),
        (SECRET, "scan", lambda c: c + "=" * 3000),
    ],
    ids=["wrong-secret", "other-listing", "bad-signature", "bad-payload", "unsigned", "too-long"],
)
def test_cursor_that_was_altered_or_misused_is_refused(secret, scope, alter):
    cursor = alter(encode_cursor(SECRET, "scan", KEY))
    with pytest.raises(InvalidCursor):
        decode_cursor(secret, scope, cursor)
