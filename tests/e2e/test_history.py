"""Record history end to end: HTTP into `serverless-crud serve`, whose local runtime delivers the
records table's stream to the template's HistoryFunction, as Lambda does on AWS. Every path that
writes a record (the API's routes, a boto3 write at the local AWS endpoint) shows up in the record's
history; a stream record delivered twice writes one entry; the routes follow the record's access rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import Reply, Server, aws_client, eventually, start_server
from tests.e2e.test_identity import ALICE, BOB, LOCAL_ADMIN, add_user, admin_password, claims, sign_in

pytestmark = pytest.mark.runs_for(35)

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("history"), "--no-fsync")
    yield running
    running.stop()


def item(email: str, record_id: int) -> str:
    return f"/records/{quote(email, safe='')}/{record_id}"


def history(server: Server, email: str, record_id: int, count: int, **headers: str) -> list[dict[str, Any]]:
    """The record's history once it has `count` entries (the stream delivers them shortly after)."""

    def entries() -> list[dict[str, Any]] | None:
        reply = server.request("GET", f"{item(email, record_id)}/history?limit=100", headers=headers)
        found: list[dict[str, Any]] = reply.json()["items"] if reply.status == 200 else []
        return found if len(found) >= count else None

    result: list[dict[str, Any]] = eventually(entries)
    return result


def changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["from"], c["to"]) for c in entry["changes"]}


def test_every_change_through_the_api_is_a_version_with_its_diff(server: Server) -> None:
    email = "history@example.com"
    created = server.request("POST", "/records", {"email": email, "name": "Ada", "tags": ["a"]}).json()
    key = item(email, created["id"])
    assert server.request("PUT", key, {"name": "Ada L", "notes": "first"}).status == 200
    assert server.request("PATCH", key, {"phone": "+44 20 7946 0000"}, MERGE_PATCH).status == 200
    assert server.request("PATCH", key, {"notes": None, "active": False}, MERGE_PATCH).status == 200
    assert server.request("DELETE", key).status == 204
    restored = server.request("POST", f"/deleted/{quote(email)}/{created['id']}/restore")
    assert restored.status == 201, restored.body
    assert restored.json()["version"] == 5
    assert restored.json()["created_at"] == created["created_at"]

    entries = history(server, email, created["id"], 6)
    assert [(e["version"], e["how"]) for e in entries] == [
        (5, "restore"),
        (4, "delete"),
        (4, "patch"),
        (3, "patch"),
        (2, "replace"),
        (1, "create"),
    ]
    assert changes(entries[5]) == {"name": (None, "Ada"), "tags": (None, ["a"]), "active": (None, True)}
    assert changes(entries[4]) == {"name": ("Ada", "Ada L"), "notes": (None, "first"), "tags": (["a"], [])}
    assert changes(entries[3]) == {"phone": (None, "+44 20 7946 0000")}
    assert changes(entries[2]) == {"notes": ("first", None), "active": (True, False)}
    assert entries[1]["changes"] == [] and entries[0]["changes"] == []  # restored as it was deleted
    assert all(e["by"] == "unknown" and e["at"].endswith("Z") for e in entries)  # the open mode

    version = server.request("GET", f"{key}/history/2").json()
    assert version["record"]["name"] == "Ada L" and version["record"]["notes"] == "first"
    assert server.request("GET", f"{key}/history/9").status == 404
    assert server.request("GET", f"{key}/history/x").status == 400


def test_restoring_a_version_honours_if_match(server: Server) -> None:
    email = "restore@example.com"
    created = server.request("POST", "/records", {"email": email, "name": "Before"}).json()
    key = item(email, created["id"])
    server.request("PATCH", key, {"name": "After"}, MERGE_PATCH)
    history(server, email, created["id"], 2)  # the stream has delivered both versions
    stale = server.request("POST", f"{key}/history/1/restore", headers={"If-Match": '"1"'})
    assert stale.status == 412
    restored = server.request("POST", f"{key}/history/1/restore", headers={"If-Match": '"2"'})
    assert restored.status == 200, restored.body
    assert (restored.json()["name"], restored.json()["version"]) == ("Before", 3)
    assert restored.headers["ETag"] == '"3"'
    latest = history(server, email, created["id"], 3)[0]
    assert (latest["how"], changes(latest)) == ("restore", {"name": ("After", "Before")})


def test_a_deleted_record_is_listed_until_its_key_is_used_again(server: Server) -> None:
    email = "deleted@example.com"
    first = server.request("POST", "/records", {"email": email, "name": "Gone"}).json()
    second = server.request("POST", "/records", {"email": email, "name": "Reused"}).json()
    for record in (first, second):
        server.request("DELETE", item(email, record["id"]))

    def deleted() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = server.request("GET", f"/deleted?email={quote(email)}").json()["items"]
        return found if len(found) == 2 else None

    listed = eventually(deleted)
    assert [e["record"]["name"] for e in listed] == ["Reused", "Gone"]  # newest deletion first
    assert all(e["how"] == "delete" for e in listed)
    page = server.request("GET", f"/deleted?email={quote(email)}&limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = server.request("GET", f"/deleted?email={quote(email)}&limit=1&cursor={page['next_cursor']}").json()
    assert [e["record"]["name"] for e in rest["items"]] == ["Gone"]
    tampered = server.request("GET", f"/deleted?email={quote(email)}&cursor={page['next_cursor']}x")
    assert tampered.status == 400

    # The key is in use again: restoring the deleted record is 409, and it leaves the list.
    again = server.request("POST", "/records", {"email": email, "id": second["id"], "name": "New"})
    assert again.status == 201
    conflict = server.request("POST", f"/deleted/{quote(email)}/{second['id']}/restore")
    assert conflict.status == 409
    listing = f"/deleted?email={quote(email)}"
    names = lambda: [e["record"]["name"] for e in server.request("GET", listing).json()["items"]]  # noqa: E731
    eventually(lambda: names() == ["Gone"])
    assert server.request("POST", f"/deleted/{quote(email)}/{first['id']}/restore").status == 201
    assert server.request("POST", f"/deleted/{quote(email)}/12345/restore").status == 404


def _records_table(server: Server) -> str:
    names = aws_client(server.aws, "dynamodb").list_tables()["TableNames"]
    return next(n for n in names if "Records" in n or "records" in n)


def test_a_write_outside_the_api_is_in_the_history_as_outside_the_api(server: Server) -> None:
    email = "outside@example.com"
    created = server.request("POST", "/records", {"email": email, "name": "By the API"}).json()
    dynamodb = aws_client(server.aws, "dynamodb")
    table = _records_table(server)
    key = {"email": {"S": email}, "id": {"N": str(created["id"])}}
    # Another tool changes the name and leaves the version as it was, then writes a row of its own.
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "By boto3"}},
    )
    dynamodb.put_item(TableName=table, Item={"email": {"S": email}, "id": {"N": "7"}, "name": {"S": "Raw"}})
    entries = history(server, email, created["id"], 2)
    assert [(e["version"], e["how"], e["by"]) for e in entries] == [
        (1, "outside the API", "unknown"),
        (1, "create", "unknown"),
    ]
    assert changes(entries[0]) == {"name": ("By the API", "By boto3")}
    (raw,) = history(server, email, 7, 1)
    assert (raw["how"], changes(raw)) == ("outside the API", {"name": (None, "Raw")})
    # A write that changes nothing of the record (the derived attributes a backfill writes) is none.
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "_text"},
        ExpressionAttributeValues={":t": {"S": "by boto3"}},
    )
    server.request("PATCH", item(email, created["id"]), {"notes": "n"}, MERGE_PATCH)
    entries = history(server, email, created["id"], 3)
    assert [(e["version"], e["how"]) for e in entries][:1] == [(2, "patch")] and len(entries) == 3


def test_a_stream_record_delivered_twice_writes_one_entry(server: Server) -> None:
    email = "twice@example.com"
    created = server.request("POST", "/records", {"email": email, "name": "Once"}).json()
    history(server, email, created["id"], 1)
    streams = aws_client(server.aws, "dynamodbstreams")
    arn = aws_client(server.aws, "dynamodb").describe_table(TableName=_records_table(server))["Table"][
        "LatestStreamArn"
    ]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    ours = [r for r in records if r["dynamodb"]["Keys"]["email"]["S"] == email]
    assert len(ours) == 1
    lambda_ = aws_client(server.aws, "lambda")
    function = next(
        f["FunctionName"] for f in lambda_.list_functions()["Functions"] if "History" in f["FunctionName"]
    )
    record = json.loads(json.dumps(ours[0], default=lambda moment: moment.timestamp()))
    record["eventSourceARN"] = arn
    for _ in range(2):  # delivered again, as Lambda may after a retry or a restart
        answer = lambda_.invoke(FunctionName=function, Payload=json.dumps({"Records": [record]}).encode())
        assert json.loads(answer["Payload"].read()) == {"batchItemFailures": []}
    server.request("PATCH", item(email, created["id"]), {"name": "Twice"}, MERGE_PATCH)
    entries = history(server, email, created["id"], 2)
    assert [(e["version"], e["how"]) for e in entries] == [(2, "patch"), (1, "create")]

    # A change that cannot be written stops its batch there: Lambda retries from it, and what came
    # after it is not written out of order.
    poison = json.loads(json.dumps(record))
    poison["dynamodb"]["SequenceNumber"] = "9" * 30
    poison["dynamodb"]["NewImage"]["id"] = {"N": "not a number"}
    after = json.loads(json.dumps(record))
    after["dynamodb"]["SequenceNumber"] = "9" * 31
    after["dynamodb"]["NewImage"]["email"] = after["dynamodb"]["Keys"]["email"] = {"S": "after@example.com"}
    answer = lambda_.invoke(
        FunctionName=function, Payload=json.dumps({"Records": [record, poison, after]}).encode()
    )
    assert json.loads(answer["Payload"].read()) == {"batchItemFailures": [{"itemIdentifier": "9" * 30}]}
    assert server.request("GET", f"{item('after@example.com', created['id'])}/history").status == 404


# -- access rules, signed in --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    running = start_server(tmp_path_factory.mktemp("history-signed-in"), "--no-fsync", signed_in=True)
    add_user(running, ALICE)
    add_user(running, BOB)
    tokens = {
        "alice": sign_in(running, ALICE)["IdToken"],
        "bob": sign_in(running, BOB)["IdToken"],
        "admin": sign_in(running, LOCAL_ADMIN, admin_password(running))["IdToken"],
    }
    yield running, tokens
    running.stop()


def test_every_history_route_follows_the_records_access_rules(
    signed_in: tuple[Server, dict[str, str]], tmp_path: Path
) -> None:
    server, tokens = signed_in

    def call(who: str | None, method: str, url: str, body: Any = None, **headers: str) -> Reply:
        signed = {"Authorization": tokens[who]} if who else {}
        return server.request(method, url, body, {**signed, **headers})

    bobs = call("bob", "POST", "/records", {"email": BOB, "name": "Bob's"}).json()
    key = item(BOB, bobs["id"])
    call("bob", "PATCH", key, {"name": "Bob's own"}, **MERGE_PATCH)
    entries = history(server, BOB, bobs["id"], 2, Authorization=tokens["bob"])
    bob = claims(tokens["bob"])["sub"]
    assert {(e["by"], e["how"]) for e in entries} == {(bob, "create"), (bob, "patch")}
    gone = call("bob", "POST", "/records", {"email": BOB, "name": "Deleted"}).json()
    assert call("bob", "DELETE", item(BOB, gone["id"])).status == 204
    eventually(lambda: call("bob", "GET", "/deleted").json()["items"])

    outcomes = {}
    for who in ("alice", "bob", "admin", None):
        outcomes[who] = (
            call(who, "GET", f"{key}/history").status,
            call(who, "GET", f"{key}/history/1").status,
            call(who, "GET", f"/deleted?email={quote(BOB)}").status,
        )
    assert outcomes == {
        "alice": (404, 404, 403),
        "bob": (200, 200, 200),
        "admin": (200, 200, 200),
        None: (401, 401, 401),
    }
    # Writes: another owner's is 404 and changes nothing; the owner's and an admin's work.
    assert call("alice", "POST", f"{key}/history/1/restore").status == 404
    assert call("alice", "POST", f"/deleted/{quote(BOB)}/{gone['id']}/restore").status == 404
    assert call(None, "POST", f"{key}/history/1/restore").status == 401
    assert call("admin", "POST", f"{key}/history/1/restore").status == 200
    assert call("bob", "POST", f"/deleted/{quote(BOB)}/{gone['id']}/restore").status == 201
    gone_history = history(server, BOB, gone["id"], 3, Authorization=tokens["bob"])
    (deletion,) = [e for e in gone_history if e["how"] == "delete"]
    assert (deletion["by"], deletion["by_email"]) == (bob, BOB)
    restored = history(server, BOB, bobs["id"], 3, Authorization=tokens["bob"])[0]
    assert (restored["how"], restored["by"]) == ("restore", claims(tokens["admin"])["sub"])
    assert call("alice", "GET", "/deleted").json()["items"] == []
    # An admin who names no owner sees every owner's recently deleted.
    alices = call("alice", "POST", "/records", {"email": ALICE, "name": "Alice's"}).json()
    assert call("alice", "DELETE", item(ALICE, alices["id"])).status == 204
    everyone = call("admin", "GET", "/deleted").json()["items"]
    assert {(e["record"]["email"], e["record"]["id"]) for e in everyone} >= {(ALICE, alices["id"])}


def test_an_erasure_erases_the_owners_history_and_says_so(server: Server) -> None:
    from tests.e2e.test_jobs import finished, start

    email, kept = "forget-me@example.com", "keep-me@example.com"
    mine = server.request("POST", "/records", {"email": email, "name": "Mine"}).json()
    server.request("PATCH", item(email, mine["id"]), {"notes": "secret"}, MERGE_PATCH)
    theirs = server.request("POST", "/records", {"email": kept, "name": "Theirs"}).json()
    history(server, email, mine["id"], 2)
    history(server, kept, theirs["id"], 1)

    job = finished(server, start(server, "/erasures", {"email": email}))
    assert job["status"] == "succeeded", job
    assert job["counts"] == {"records": 1, "erased": 1, "left": 0, "history_erased": 2}
    # The erasure's own deletions are not history either, and the owner has nothing to restore.
    server.request("POST", "/records", {"email": kept, "name": "A later change"})  # the stream moves on
    history(server, kept, theirs["id"], 1)
    eventually(lambda: len(history(server, kept, theirs["id"], 1)) == 1)
    assert server.request("GET", f"{item(email, mine['id'])}/history").status == 404
    assert server.request("GET", f"/deleted?email={quote(email)}").json()["items"] == []
    # What the owner does afterwards is recorded again.
    again = server.request("POST", "/records", {"email": email, "name": "New start"}).json()
    assert [e["how"] for e in history(server, email, again["id"], 1)] == ["create"]


def test_a_kill_between_a_write_and_its_history_loses_no_entry(tmp_path: Path) -> None:
    import signal

    state = tmp_path / "state"
    first = start_server(tmp_path, state=state)  # fsync on: what was answered is on disk
    try:
        created = first.request("POST", "/records", {"email": "killed@example.com", "name": "Before"}).json()
        patched = first.request(
            "PATCH", item("killed@example.com", created["id"]), {"name": "After"}, MERGE_PATCH
        )
        assert patched.status == 200
    finally:
        first.stop(signal.SIGKILL)  # at once: the stream's batch window (1 s) has not closed
    again = start_server(tmp_path, state=state)
    try:
        entries = history(again, "killed@example.com", created["id"], 2)
        assert [(e["version"], e["how"]) for e in entries] == [(2, "patch"), (1, "create")]
    finally:
        again.stop()


def test_an_export_can_include_each_records_history(server: Server) -> None:
    import urllib.request

    from tests.e2e.test_jobs import finished, start

    email = "exported@example.com"
    created = server.request("POST", "/records", {"email": email, "name": "First"}).json()
    server.request("PATCH", item(email, created["id"]), {"name": "Second"}, MERGE_PATCH)
    history(server, email, created["id"], 2)

    job = finished(server, start(server, "/exports?include=history", {"format": "jsonl", "email": email}))
    assert job["status"] == "succeeded", job
    with urllib.request.urlopen(job["download_url"], timeout=30) as response:
        (line,) = response.read().decode().splitlines()
    exported = json.loads(line)
    assert exported["name"] == "Second"
    assert [(v["version"], v["how"], v["record"]["name"]) for v in exported["history"]] == [
        (2, "patch", "Second"),
        (1, "create", "First"),
    ]
    csv = server.request("POST", "/exports?include=history", {"format": "csv", "email": email})
    assert csv.status == 422
    assert server.request("POST", "/exports?include=everything", {"format": "jsonl"}).status == 400
