"""Bad input gets a clear problem+json error and changes nothing."""

from __future__ import annotations

import pytest

JSON = {"Content-Type": "application/json"}


def assert_nothing_stored(api):
    assert api.get("/records").json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a@example.com", "name": ',
        "not json",
        '{"name": NaN, "email": "a@example.com"}',
        '{"name": "a", "name": "b", "email": "a@example.com"}',
        "[1, 2]",
        '"text"',
        "",
    ],
    ids=["truncated", "text", "nan", "duplicate-key", "array", "string", "empty"],
)
def test_malformed_json_is_400(api, body):
    reply = api.post("/records", body, headers=JSON)
    assert reply.status == 400, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert_nothing_stored(api)


def test_unknown_and_server_managed_fields_are_422_with_field_errors(api):
    reply = api.post("/records", {"email": "a@example.com", "name": "A", "colour": "red", "version": 9})
    assert reply.status == 422
    problem = reply.json()
    assert problem["title"] == "Unprocessable Content"
    assert {"field": "colour", "message": "is not a field of a record"} in problem["errors"]
    assert {"field": "version", "message": "is managed by the server"} in problem["errors"]
    assert_nothing_stored(api)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A"}, "email"),
        ({"email": "a@example.com"}, "name"),
        ({"email": "not-an-email", "name": "A"}, "email"),
        ({"email": "a@example.com", "name": "   "}, "name"),
        ({"email": "a@example.com", "name": "x" * 201}, "name"),
        ({"email": "a@example.com", "name": "A", "phone": "1" * 33}, "phone"),
        ({"email": "a@example.com", "name": "A", "notes": "n" * 4001}, "notes"),
        ({"email": "a@example.com", "name": "A", "tags": ["t"] * 21}, "tags"),
        ({"email": "a@example.com", "name": "A", "tags": [""]}, "tags.0"),
        ({"email": "a@example.com", "name": "A", "tags": "vip"}, "tags"),
        ({"email": "a@example.com", "name": "A", "active": "yes"}, "active"),
        ({"email": "a@example.com", "name": "A", "id": 0}, "id"),
        ({"email": "a@example.com", "name": "A", "id": "5"}, "id"),
        ({"email": "a@example.com", "name": "A", "id": 2**53}, "id"),
        ({"email": "a@example.com", "name": 5}, "name"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(api, body, field):
    reply = api.post("/records", body)
    assert reply.status == 422, reply.body
    fields = [e["field"] for e in reply.json()["errors"]]
    assert field in fields
    assert all(e["message"] for e in reply.json()["errors"])
    assert_nothing_stored(api)


def test_oversize_body_is_413(api):
    reply = api.post("/records", {"email": "a@example.com", "name": "A", "notes": "x" * 70_000})
    assert reply.status == 413
    assert_nothing_stored(api)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    reply = api.request("POST", "/records", body='{"email": "a@example.com", "name": "A"}', headers=headers)
    assert reply.status == 415
    assert reply.headers["Accept-Post"] == "application/json"
    assert_nothing_stored(api)


def test_json_with_charset_is_accepted(api):
    reply = api.post(
        "/records",
        '{"email": "a@example.com", "name": "A"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert reply.status == 201


def test_base64_encoded_body_is_decoded(api):
    reply = api.request("POST", "/records", body=b'{"email": "a@example.com", "name": "A"}', headers=JSON)
    assert reply.status == 201, reply.body


def test_patch_with_wrong_content_type_is_415_with_accept_patch(api):
    created = api.post("/records", {"email": "a@example.com", "name": "A"}).json()
    reply = api.request(
        "PATCH",
        f"/records/a%40example.com/{created['id']}",
        body="{}",
        headers={"Content-Type": "text/plain"},
    )
    assert reply.status == 415
    assert "application/merge-patch+json" in reply.headers["Accept-Patch"]
