"""Numbers round-trip exactly: never a float approximation, never a string."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.events import record_path

EXACT = [
    "0.1",
    "3",
    "12345678901234567890.123456789",
    "1234567890123456789012345678901234567.8",  # 38 significant digits
    "-0.000000000000000000000000000000000001",
    "99999999999999999999999999999999999999",
]


@pytest.mark.parametrize("text", EXACT)
def test_amount_round_trips_digit_for_digit(api, text):
    body = '{"email": "n@example.com", "name": "N", "amount": ' + text + "}"
    created = api.post("/records", body, headers={"Content-Type": "application/json"})
    assert created.status == 201, created.body
    assert f'"amount":{text}' in created.body
    record = created.json()
    read = api.get(record_path(record["email"], record["id"]))
    assert f'"amount":{text}' in read.body
    assert read.json()["amount"] == Decimal(text)
    listed = api.get("/records", query={"email": "n@example.com"})
    assert f'"amount":{text}' in listed.body


def test_trailing_zeros_keep_the_value(api):
    created = api.post(
        "/records",
        '{"email": "n@example.com", "name": "N", "amount": 1.50}',
        headers={"Content-Type": "application/json"},
    )
    assert created.json()["amount"] == Decimal("1.5")


@pytest.mark.parametrize(
    "text",
    ["1234567890123456789012345678901234567.89", "1e126", "1e-131"],
    ids=["39-digits", "too-large", "too-small"],
)
def test_numbers_dynamodb_cannot_hold_are_422(api, text):
    body = '{"email": "n@example.com", "name": "N", "amount": ' + text + "}"
    reply = api.post("/records", body, headers={"Content-Type": "application/json"})
    assert reply.status == 422, reply.body
    assert reply.json()["errors"][0]["field"] == "amount"


@pytest.mark.parametrize("value", ['"0.1"', "true", "[1]"])
def test_amount_must_be_a_json_number(api, value):
    body = '{"email": "n@example.com", "name": "N", "amount": ' + value + "}"
    reply = api.post("/records", body, headers={"Content-Type": "application/json"})
    assert reply.status == 422
