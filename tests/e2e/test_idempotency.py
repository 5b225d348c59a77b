"""Idempotency-Key over HTTP against the local server, whose function has eight warm instances:
concurrent repeats create one record; an expired key creates anew."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from tests.e2e.conftest import aws_client, start_server

BODY = {"email": "twice@example.com", "name": "Double click"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("idempotency"), "--concurrency", "8")
    yield server
    server.stop()


def _post(server, key, body=BODY):
    return server.request("POST", "/records", body, headers={"Idempotency-Key": key})


def _listed(server, email):
    return server.request("GET", f"/records?email={quote(email)}").json()["items"]


def test_eight_concurrent_requests_with_one_key_create_one_record(server):
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: _post(server, "burst"), range(8)))

    created = [r for r in replies if r.status == 201]
    assert {r.status for r in replies} <= {201, 409}
    assert created
    assert len({r.json()["id"] for r in created}) == 1
    for reply in replies:
        if reply.status == 409:
            assert reply.headers["Content-Type"] == "application/problem+json"
            assert reply.headers["Retry-After"]
    assert len(_listed(server, BODY["email"])) == 1
    again = _post(server, "burst")
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == created[0].json()["id"]


def test_a_different_body_with_the_key_is_422(server):
    assert _post(server, "other-body", {**BODY, "email": "third@example.com"}).status == 201
    reply = _post(server, "other-body", {**BODY, "email": "third@example.com", "name": "changed"})
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"


def test_an_expired_key_creates_a_new_record(server):
    body = {**BODY, "email": "expiry@example.com"}
    first = _post(server, "expiring", body)
    assert first.status == 201
    dynamodb = aws_client(server.aws, "dynamodb")
    (item,) = [i for i in dynamodb.scan(TableName="IdempotencyTable")["Items"] if "expiry" in i["data"]["S"]]
    # A day later: the kept response has expired (DynamoDB's TTL may not have deleted it yet).
    dynamodb.update_item(
        TableName="IdempotencyTable",
        Key={"id": item["id"]},
        UpdateExpression="SET #e = :past",
        ExpressionAttributeNames={"#e": "expiration"},
        ExpressionAttributeValues={":past": {"N": "1"}},
    )

    second = _post(server, "expiring", body)

    assert second.status == 201
    assert second.headers.get("Idempotent-Replayed") is None
    assert second.json()["id"] != first.json()["id"]
    assert len(_listed(server, body["email"])) == 2


def test_a_repeat_while_the_first_is_in_flight_is_409(server):
    import time

    body = {**BODY, "email": "inflight@example.com"}
    assert _post(server, "in-flight", body).status == 201
    dynamodb = aws_client(server.aws, "dynamodb")
    (item,) = [
        i for i in dynamodb.scan(TableName="IdempotencyTable")["Items"] if "inflight" in i["data"]["S"]
    ]
    # As the table holds it while the first request runs: in progress, until its invocation's end.
    dynamodb.update_item(
        TableName="IdempotencyTable",
        Key={"id": item["id"]},
        UpdateExpression="SET #s = :running, #i = :later REMOVE #d",
        ExpressionAttributeNames={"#s": "status", "#i": "in_progress_expiration", "#d": "data"},
        ExpressionAttributeValues={
            ":running": {"S": "INPROGRESS"},
            ":later": {"N": str(int((time.time() + 60) * 1000))},
        },
    )

    reply = _post(server, "in-flight", body)

    assert reply.status == 409
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in reply.json()["detail"]
    assert len(_listed(server, body["email"])) == 1


def test_the_local_idempotency_table_is_the_template_s_with_its_ttl(server):
    dynamodb = aws_client(server.aws, "dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName="IdempotencyTable")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    indexes = dynamodb.describe_table(TableName="RecordsTable")["Table"]["GlobalSecondaryIndexes"]
    assert {index["IndexName"] for index in indexes} == {
        "by_name",
        "by_updated",
        "by_amount",
        "all_by_id",
        "all_by_name",
        "all_by_updated",
        "all_by_amount",
    }
