"""tests/apps/stream-consumer: functions fed by DynamoDB streams, as Lambda's stream pollers feed them."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, aws_client, eventually, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("stream-consumer"), "stream-consumer")
    yield server
    server.stop()


def dynamodb(server: Server) -> Any:
    return aws_client(server.aws, "dynamodb")


def audited(server: Server, prefix: str) -> list[dict[str, Any]]:
    items = dynamodb(server).scan(TableName="AuditTable", ConsistentRead=True)["Items"]
    return sorted((i for i in items if i["id"]["S"].startswith(prefix)), key=lambda i: i["id"]["S"])


def record_of(item: dict[str, Any]) -> dict[str, Any]:
    return json.loads(item["record"]["S"])  # type: ignore[no-any-return]


def put(server: Server, table: str, key: str, **attributes: Any) -> None:
    item = {
        "id": {"S": key},
        **{name: {"S": v} if isinstance(v, str) else {"N": str(v)} for name, v in attributes.items()},
    }
    dynamodb(server).put_item(TableName=table, Item=item)


def test_each_change_reaches_the_function_once_with_both_images(app):
    put(app, "NotesTable", "n1", text="hello", priority=2)
    put(app, "NotesTable", "n1", text="hello", priority=2)  # changes nothing: no record
    dynamodb(app).update_item(
        TableName="NotesTable",
        Key={"id": {"S": "n1"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "text"},
        ExpressionAttributeValues={":t": {"S": "changed"}},
    )
    dynamodb(app).delete_item(TableName="NotesTable", Key={"id": {"S": "n1"}})

    changes = eventually(lambda: len(found := audited(app, "")) >= 3 and found)
    names = [
        (i["id"]["S"].split("-")[0], i["id"]["S"].split("-")[1]) for i in changes if "-n1-" in i["id"]["S"]
    ]
    assert sorted(names) == [("INSERT", "n1"), ("MODIFY", "n1"), ("REMOVE", "n1")]
    by_name = {record_of(i)["eventName"]: record_of(i) for i in changes if "-n1-" in i["id"]["S"]}
    modify = by_name["MODIFY"]
    assert modify["dynamodb"]["OldImage"]["text"] == {"S": "hello"}
    assert modify["dynamodb"]["NewImage"]["text"] == {"S": "changed"}
    assert modify["dynamodb"]["Keys"] == {"id": {"S": "n1"}}
    assert modify["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert modify["eventSource"] == "aws:dynamodb"
    assert modify["eventSourceARN"].endswith(":table/NotesTable/stream/1970-01-01T00:00:00.000")
    assert isinstance(modify["dynamodb"]["ApproximateCreationDateTime"], int | float)
    assert "NewImage" not in by_name["REMOVE"]["dynamodb"] and "OldImage" in by_name["REMOVE"]["dynamodb"]
    numbers = sorted(int(record["dynamodb"]["SequenceNumber"]) for record in by_name.values())
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # the unchanged put left no record


@pytest.mark.parametrize(
    ("table", "view", "new", "old"),
    [
        ("KeysTable", "KEYS_ONLY", False, False),
        ("NewTable", "NEW_IMAGE", True, False),
        ("OldTable", "OLD_IMAGE", False, True),
    ],
)
def test_every_stream_view_type_carries_what_it_names(app, table, view, new, old):
    put(app, table, "k", colour="red")
    put(app, table, "k", colour="blue")

    item = eventually(lambda: audited(app, f"{table}-MODIFY"))[0]
    change = record_of(item)["dynamodb"]
    assert change["StreamViewType"] == view
    assert change["Keys"] == {"id": {"S": "k"}}
    assert ("NewImage" in change, "OldImage" in change) == (new, old)
    if new:
        assert change["NewImage"]["colour"] == {"S": "blue"}
    if old:
        assert change["OldImage"]["colour"] == {"S": "red"}


def test_a_filter_passes_only_the_records_it_matches(app):
    put(app, "NotesTable", "low", text="a", priority=1)
    put(app, "NotesTable", "high", text="b", priority=9)

    eventually(lambda: audited(app, "flagged-high"))
    eventually(lambda: audited(app, "INSERT-low"))  # the other mapping saw both
    assert audited(app, "flagged-low") == []


def test_a_reported_item_failure_is_handed_on_again_from_that_record(app):
    put(app, "NotesTable", "again", text="retry-me")

    done = eventually(lambda: audited(app, "INSERT-again"))
    assert len(done) == 1  # failed once (reported), then handed on again and done once
    assert audited(app, "seen-")


def test_a_failing_record_is_bisected_retried_and_given_up_to_the_destination(app):
    for key, text in (("before", "fine"), ("poison", "poison"), ("after", "fine")):
        put(app, "NotesTable", key, text=text)

    eventually(lambda: audited(app, "INSERT-after"))
    assert audited(app, "INSERT-before")
    assert audited(app, "INSERT-poison") == []
    queue = aws_client(app.aws, "sqs").get_queue_url(QueueName="GivenUp")["QueueUrl"]
    messages = eventually(
        lambda: aws_client(app.aws, "sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages")
    )
    given_up = json.loads(messages[0]["Body"])
    info = given_up["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"].endswith(":table/NotesTable/stream/1970-01-01T00:00:00.000")
    assert given_up["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert given_up["requestContext"]["approximateInvokeCount"] == 2  # the first try and one retry
    assert given_up["responseContext"]["functionError"] == "Unhandled"
    assert given_up["requestContext"]["functionArn"].endswith(":function:Auditor")


def test_unprocessed_changes_survive_kill_9(app, tmp_path):
    functions = aws_client(app.aws, "lambda")
    mapping = next(
        m for m in functions.list_event_source_mappings(FunctionName="Auditor")["EventSourceMappings"]
    )
    functions.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    time.sleep(1.5)  # the poller stops
    for number in range(4):
        put(app, "NotesTable", f"late{number}", text="fine")
    time.sleep(0.5)
    assert audited(app, "INSERT-late") == []
    state = app.args[app.args.index("--state-dir") + 1]

    app.stop(signal.SIGKILL)
    again = start_app(tmp_path, "stream-consumer", state=state)
    try:  # the template's mapping is enabled again, at the position it had
        late = eventually(lambda: len(found := audited(again, "INSERT-late")) == 4 and found)
        assert [i["id"]["S"].split("-")[1] for i in late] == ["late0", "late1", "late2", "late3"]
        assert mapping["UUID"] in {
            m["UUID"]
            for m in aws_client(again.aws, "lambda").list_event_source_mappings()["EventSourceMappings"]
        }
    finally:
        again.stop()
