from decimal import Decimal

import pytest

from serverless_crud.models import exact_json


@pytest.mark.parametrize("text", ["0.1", "3", "-0.5", "12345678901234567890.123456789", "1E+3", "1e-7"])
def test_numbers_parse_exactly(text):
    value = exact_json.parse(text)
    assert value == Decimal(text) or value == int(text)


def test_integers_stay_int_and_fractions_become_decimal():
    assert exact_json.parse('{"a": 3, "b": 0.1}') == {"a": 3, "b": Decimal("0.1")}
    assert type(exact_json.parse("3")) is int


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", '{"a":1,"a":2}', "{", "", "[1,]"])
def test_malformed_documents_are_rejected(text):
    with pytest.raises(exact_json.MalformedJson):
        exact_json.parse(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.1"), "0.1"),
        (Decimal("3"), "3"),
        (Decimal("1E+2"), "100"),
        (Decimal("12345678901234567890.123456789"), "12345678901234567890.123456789"),
        (Decimal("-1E-5"), "-0.00001"),
        ({"a": [True, False, None, "é\n\u2028"]}, '{"a":[true,false,null,"é\\n\u2028"]}'),
        (2**70, str(2**70)),
    ],
)
def test_dumps_writes_exact_numbers(value, text):
    assert exact_json.dumps(value) == text


def test_dumps_round_trips_through_parse():
    document = {"x": [Decimal("0.30000000000000000000000000000000000001"), 7, "s", {"n": None}]}
    assert exact_json.parse(exact_json.dumps(document)) == document


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), float("nan"), object()])
def test_dumps_refuses_what_json_cannot_hold(value):
    with pytest.raises((ValueError, TypeError)):
        exact_json.dumps(value)
