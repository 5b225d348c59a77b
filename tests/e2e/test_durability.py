"""Local data survives restarts and kill -9; the DynamoDB endpoint sees and keeps the same tables."""

from __future__ import annotations

import contextlib
import http.client
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import PROBE_TEMPLATE, aws_client, start_server

pytestmark = pytest.mark.runs_for(40)


def dynamodb(server, region="eu-west-3", key="AKIDEXAMPLE1"):
    return aws_client(server.dynamodb, "dynamodb", region, key)


def create(server, name):
    reply = server.request("POST", "/records", {"email": "keep@example.com", "name": name})
    assert reply.status == 201, reply.body
    return reply.json()


def names(server):
    items = server.request("GET", "/records?email=keep%40example.com&limit=100").json()["items"]
    return sorted(item["name"] for item in items)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_acknowledged_writes_survive_a_restart(tmp_path, stop_signal):
    server = start_server(tmp_path)
    first = create(server, "first")
    create(server, "second")
    path = f"/records/keep%40example.com/{first['id']}"
    assert (
        server.request("PATCH", path, {"notes": "changed"}, {"Content-Type": "application/json"}).status
        == 200
    )
    server.request("DELETE", f"/records/keep%40example.com/{create(server, 'gone')['id']}")
    server.stop(stop_signal)

    again = start_server(tmp_path)
    try:
        assert names(again) == ["first", "second"]
        assert again.request("GET", path).json()["notes"] == "changed"
    finally:
        again.stop()


def test_no_acknowledged_write_is_lost_when_killed_mid_stream(tmp_path):
    server = start_server(tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(prefix):
        number = 0
        while not stop.is_set():
            try:
                reply = server.request(
                    "POST", "/records", {"email": "keep@example.com", "name": f"{prefix}{number}"}
                )
            except (OSError, http.client.HTTPException):  # the server died mid-answer: not acknowledged
                return
            if reply.status == 201:
                acknowledged.append(reply.json()["name"])
            number += 1

    threads = [threading.Thread(target=writer, args=(f"w{i}-",)) for i in range(4)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 40:
        threading.Event().wait(0.01)
    server.process.send_signal(signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join()
    server.process.wait()

    again = start_server(tmp_path)
    try:
        kept = set()
        cursor = ""
        while True:
            page = again.request("GET", f"/records?email=keep%40example.com&limit=100{cursor}").json()
            kept.update(item["name"] for item in page["items"])
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
        assert set(acknowledged) <= kept
    finally:
        again.stop()


def test_every_region_and_credential_sees_the_same_tables_and_endpoint_writes_are_kept(tmp_path):
    server = start_server(tmp_path)
    record = create(server, "via the API")
    paris, mumbai = dynamodb(server, "eu-west-3", "AKIDPARIS"), dynamodb(server, "ap-south-1", "AKIDMUMBAI")
    assert "RecordsTable" in paris.list_tables()["TableNames"]
    assert "RecordsTable" in mumbai.list_tables()["TableNames"]
    key = {"email": {"S": "keep@example.com"}, "id": {"N": str(record["id"])}}
    assert mumbai.get_item(TableName="RecordsTable", Key=key)["Item"]["name"] == {"S": "via the API"}
    paris.update_item(
        TableName="RecordsTable",
        Key=key,
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "via the endpoint"}},
    )
    paris.create_table(
        TableName="Scratch",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "B"}],
        BillingMode="PAY_PER_REQUEST",
    )
    paris.update_time_to_live(
        TableName="Scratch", TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True}
    )
    paris.put_item(TableName="Scratch", Item={"k": {"B": b"\x00\xff"}, "m": {"M": {"b": {"BS": [b"\x01"]}}}})
    paris.batch_write_item(
        RequestItems={"Scratch": [{"PutRequest": {"Item": {"k": {"B": b"\x02"}}}}]},
    )
    paris.transact_write_items(
        TransactItems=[{"Delete": {"TableName": "Scratch", "Key": {"k": {"B": b"\x02"}}}}],
    )
    paris.execute_statement(
        Statement="INSERT INTO RecordsTable VALUE {'email': 'sql@example.com', 'id': 7, 'name': 'partiql'}"
    )
    server.stop(signal.SIGKILL)

    again = start_server(tmp_path)
    try:
        client = dynamodb(again, "us-west-2", "AKIDOREGON")
        inserted = {"email": {"S": "sql@example.com"}, "id": {"N": "7"}}
        assert client.get_item(TableName="RecordsTable", Key=inserted)["Item"]["name"] == {"S": "partiql"}
        assert client.get_item(TableName="RecordsTable", Key=key)["Item"]["name"] == {"S": "via the endpoint"}
        assert client.scan(TableName="Scratch")["Items"] == [
            {"k": {"B": b"\x00\xff"}, "m": {"M": {"b": {"BS": [b"\x01"]}}}}
        ]
        ttl = client.describe_time_to_live(TableName="Scratch")["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
        client.delete_table(TableName="Scratch")
    finally:
        again.stop(signal.SIGKILL)

    third = start_server(tmp_path)
    try:
        assert "Scratch" not in dynamodb(third).list_tables()["TableNames"]
    finally:
        third.stop()


def test_a_damaged_journal_tail_is_reported_and_what_precedes_it_kept(tmp_path):
    server = start_server(tmp_path)
    create(server, "before")
    server.stop(signal.SIGKILL)
    journal = max((tmp_path / "state" / "dynamodb").glob("journal-*.log"))
    lines = journal.read_bytes().splitlines(keepends=True)
    torn = lines[-1][: len(lines[-1]) // 2]
    journal.write_bytes(b"".join(lines) + b'0badc0de {"op":"put"}\n' + torn)

    again = start_server(tmp_path)
    try:
        assert names(again) == ["before"]
        assert f"{journal.name} line {len(lines) + 1} (the checksum does not match)" in again.output()
        assert f"line {len(lines) + 2} (incomplete" in again.output()
        assert journal.with_name(journal.name + ".damaged").read_bytes() == b'0badc0de {"op":"put"}\n' + torn
    finally:
        again.stop()


def test_fresh_starts_empty(tmp_path):
    server = start_server(tmp_path)
    create(server, "old")
    server.stop()

    again = start_server(tmp_path, "--fresh")
    try:
        assert names(again) == []
    finally:
        again.stop()


def test_a_table_whose_keys_changed_in_the_template_is_kept_and_reported(tmp_path):
    server = start_server(tmp_path, template=PROBE_TEMPLATE)
    server.stop()

    again = start_server(tmp_path, "--parameter-overrides", "SortKeyName=n", template=PROBE_TEMPLATE)
    try:
        assert "table ItemsTable in the state directory has other keys" in again.output()
        schema = dynamodb(again).describe_table(TableName="ItemsTable")["Table"]["KeySchema"]
        assert schema[1]["AttributeName"] == "id"
    finally:
        again.stop()


def test_a_handler_stopped_by_its_timeout_mid_writes_leaves_memory_and_disk_agreeing(tmp_path):
    server = start_server(tmp_path, template=PROBE_TEMPLATE)
    assert server.request("GET", "/behave/write-forever").status == 502
    # The one instance answers this only once the interrupted handler has really stopped writing.
    assert server.request("GET", "/behave/hello").status == 200
    client = dynamodb(server)
    query = {
        "TableName": "ItemsTable",
        "KeyConditionExpression": "pk = :f",
        "ExpressionAttributeValues": {":f": {"S": "forever"}},
    }
    before = client.query(**query)["Count"]
    server.stop(signal.SIGKILL)

    again = start_server(tmp_path, template=PROBE_TEMPLATE)
    try:
        assert before > 0
        assert dynamodb(again).query(**query)["Count"] == before
    finally:
        again.stop()


def _children(pid):
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def test_execution_environments_end_with_a_killed_server_even_mid_event(tmp_path):
    server = start_server(tmp_path, template=PROBE_TEMPLATE)
    busy = threading.Thread(target=lambda: _quietly(server.request, "GET", "/patient/sleep?seconds=8"))
    busy.start()
    time.sleep(1)
    workers = _children(server.process.pid)
    assert workers  # the warm instances and the one sleeping

    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    busy.join()

    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]  # the sleeping one did not wait out its 8 s


def _alive(pid):
    """Running (a zombie waiting for a reaper that never comes is not)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _quietly(call, *args):
    with contextlib.suppress(OSError, http.client.HTTPException):  # the server dies mid-answer
        call(*args)
