"""Every single-item operation is one DynamoDB request (no read-before-write), except a merge patch:
it reads the record and writes conditionally on the version it read, so that the merged record is
checked against PUT's rules."""

from __future__ import annotations

import pytest

from tests.support.events import record_path


@pytest.fixture
def dynamodb_calls(api):
    """The DynamoDB operations the function's client sends, counted with botocore's event hooks."""
    from serverless_crud.dal.dynamodb import client

    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    events = client().meta.events
    events.register("before-call.dynamodb", count)
    yield calls
    events.unregister("before-call.dynamodb", count)


def test_each_operation_is_one_request(api, dynamodb_calls):
    path = record_path("a@example.com", 5)
    operations = [
        (lambda: api.post("/records", {"email": "a@example.com", "name": "A", "id": 5}), 201, ["PutItem"]),
        (lambda: api.post("/records", {"email": "a@example.com", "name": "B"}), 201, ["PutItem"]),
        (lambda: api.get(path), 200, ["GetItem"]),
        (lambda: api.put(path, {"name": "C"}, headers={"If-Match": '"1"'}), 200, ["UpdateItem"]),
        (lambda: api.put(path, {"name": "C"}, headers={"If-Match": '"1"'}), 412, ["UpdateItem"]),
        (lambda: api.patch(path, {"notes": "n"}), 200, ["GetItem", "UpdateItem"]),
        (lambda: api.patch(path, {"notes": "n"}, headers={"If-Match": '"1"'}), 412, ["GetItem"]),
        (lambda: api.get("/records", query={"email": "a@example.com"}), 200, ["Query"]),
        (lambda: api.get("/records"), 200, ["Scan"]),
        # Across owners, sorted: the four shards of an all_by_* index, merged (docs/access-patterns.md).
        (lambda: api.get("/records", query={"sort": "name"}), 200, ["Query"] * 4),
        (lambda: api.get("/records", query={"email": "a@example.com", "sort": "-amount"}), 200, ["Query"]),
        (lambda: api.delete(path), 204, ["DeleteItem"]),
        (lambda: api.delete(path), 404, ["DeleteItem"]),
    ]
    for send, status, operation in operations:
        dynamodb_calls.clear()
        assert send().status == status
        assert dynamodb_calls == operation


def test_rejected_input_sends_no_request(api, dynamodb_calls):
    assert api.post("/records", {"email": "bad", "name": "A"}).status == 422
    assert api.get("/records/a%40example.com/x").status == 400
    assert api.get("/records", query={"cursor": "forged"}).status == 400
    assert dynamodb_calls == []
