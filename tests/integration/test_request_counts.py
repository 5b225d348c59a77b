"""Every single-item operation is one DynamoDB request (no read-before-write), except a merge patch:
it reads the record and writes conditionally on the version it read, so that the merged record is
checked against PUT's rules."""

from __future__ import annotations

import pytest

from tests.support.events import record_path

pytestmark = pytest.mark.runs_for(15)


@pytest.fixture
def dynamodb_calls(api):
    """The DynamoDB operations the function's client sends, counted with botocore's event hooks."""
    from serverless_crud.dal.clients import client

    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    events = client("dynamodb").meta.events
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


@pytest.fixture
def dynamodb_reads(api):
    """(operation, Count) of each DynamoDB answer the function's client receives."""
    from serverless_crud.dal.clients import client

    reads: list[tuple[str, int]] = []

    def record(parsed, model, **_):
        reads.append((model.name, int(parsed.get("Count", 0))))

    events = client("dynamodb").meta.events
    events.register("after-call.dynamodb", record)
    yield reads
    events.unregister("after-call.dynamodb", record)


@pytest.mark.parametrize(
    ("query", "most_per_item"),
    [
        ({}, 1),
        ({"sort": "name"}, 1),
        ({"sort": "-updated_at"}, 1),
        ({"sort": "-amount"}, 1),
        ({"q": "common"}, 2),
        ({"q": "even"}, 2),
        ({"q": "EVEN", "tag": "t3", "sort": "name"}, 2),
        ({"active": "false", "sort": "-name"}, 2),
    ],
)
def test_a_listing_within_an_owner_is_queries_reading_at_most_twice_the_page(
    api, dynamodb_reads, query, most_per_item
):
    from serverless_crud import settings
    from serverless_crud.dal.clients import client
    from serverless_crud.wiring import record_repository

    repository = record_repository(settings.current())
    owner = "many@example.com"
    records = [
        {
            "email": owner,
            "id": n,
            "name": f"Name {n:03}",
            "notes": "common " + ("even" if n % 2 == 0 else "odd"),
            "tags": [f"t{n % 5}"],
            "amount": n - 150,
            "active": n % 4 != 0,
            "updated_at": f"2026-01-01T00:{n // 60:02}:{n % 60:02}.000Z",
        }
        for n in range(1, 301)
    ]
    settings_now = settings.current()
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": repository.item_of(r)}} for r in records[start : start + 25]]
        client("dynamodb").batch_write_item(RequestItems={settings_now.table_name: batch})
    cursor, seen = None, 0
    while True:
        dynamodb_reads.clear()
        page_query = {**query, "email": owner, "limit": "20", **({"cursor": cursor} if cursor else {})}
        page = api.get("/records", query=page_query).json()
        assert {operation for operation, _ in dynamodb_reads} == {"Query"}
        returned = len(page["items"])
        seen += returned
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Pages are filled; the items DynamoDB hands the function stay within the target.
        assert returned == 20
        assert sum(count for _, count in dynamodb_reads) <= most_per_item * returned
    assert seen > 20
