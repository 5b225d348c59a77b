"""tests/apps/queue-worker: a function fed by SQS queues, as Lambda's event source mappings feed it."""

from __future__ import annotations

import hashlib
import json
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, aws_client, eventually, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("queue-worker"), "queue-worker")
    yield server
    server.stop()


def sqs(server: Server) -> Any:
    return aws_client(server.aws, "sqs")


def url(server: Server, name: str) -> str:
    return str(sqs(server).get_queue_url(QueueName=name)["QueueUrl"])


def done(server: Server, key: str) -> dict[str, Any] | None:
    item = aws_client(server.aws, "dynamodb").get_item(TableName="DoneTable", Key={"id": {"S": key}})
    return item.get("Item")


def counts(server: Server, name: str) -> tuple[int, int]:
    attributes = sqs(server).get_queue_attributes(QueueUrl=url(server, name), AttributeNames=["All"])[
        "Attributes"
    ]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_message_reaches_the_function_as_lambdas_sqs_record(app):
    body = json.dumps({"kind": "job", "id": "first"})
    sent = sqs(app).send_message(
        QueueUrl=url(app, "JobsQueue"),
        MessageBody=body,
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
    )

    item = eventually(lambda: done(app, "first"))
    record = json.loads(item["record"]["S"])
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == body
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()  # noqa: S324 (SQS's checksum)
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:JobsQueue"
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["origin"]["stringValue"] == "test"
    assert record["messageAttributes"]["origin"]["dataType"] == "String"
    assert record["receiptHandle"]
    eventually(lambda: counts(app, "JobsQueue") == (0, 0))  # deleted once the function succeeded


def test_a_message_the_filter_does_not_match_is_deleted_unseen(app):
    sqs(app).send_message(
        QueueUrl=url(app, "JobsQueue"), MessageBody=json.dumps({"kind": "other", "id": "x1"})
    )

    eventually(lambda: counts(app, "JobsQueue") == (0, 0))
    assert done(app, "x1") is None


def test_a_reported_failure_is_retried_then_moved_to_the_dead_letter_queue(app):
    sqs(app).send_message_batch(
        QueueUrl=url(app, "JobsQueue"),
        Entries=[
            {"Id": "good", "MessageBody": json.dumps({"kind": "job", "id": "good-one"})},
            {"Id": "bad", "MessageBody": json.dumps({"kind": "job", "id": "bad-one", "fail": True})},
        ],
    )

    assert eventually(lambda: done(app, "good-one"))["receives"]["S"] == "1"  # not retried
    moved = eventually(
        lambda: (
            sqs(app)
            .receive_message(QueueUrl=url(app, "JobsDeadLetters"), AttributeNames=["All"], WaitTimeSeconds=1)
            .get("Messages")
        )
    )
    assert json.loads(moved[0]["Body"])["id"] == "bad-one"
    assert int(moved[0]["Attributes"]["ApproximateReceiveCount"]) >= 2  # maxReceiveCount, then moved


def test_a_fifo_group_reaches_the_function_in_order(app):
    queue = url(app, "OrdersQueue.fifo")
    for number in range(12):
        sqs(app).send_message(
            QueueUrl=queue, MessageBody=json.dumps({"id": f"o{number:02d}"}), MessageGroupId="g1"
        )

    expected = [f"o{number:02d}" for number in range(12)]
    group = eventually(lambda: (item := done(app, "group-g1")) and len(item["bodies"]["L"]) == 12 and item)
    assert [entry["S"] for entry in group["bodies"]["L"]] == expected


def test_the_mappings_are_at_the_endpoint_and_a_disabled_one_delivers_nothing(app):
    functions = aws_client(app.aws, "lambda")
    mappings = functions.list_event_source_mappings(FunctionName="Worker")["EventSourceMappings"]
    jobs = next(m for m in mappings if m["EventSourceArn"].endswith(":JobsQueue"))
    assert jobs["BatchSize"] == 5
    assert jobs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    functions.update_event_source_mapping(UUID=jobs["UUID"], Enabled=False)
    time.sleep(1.5)  # the poller notices; then nothing reaches the function
    sqs(app).send_message(
        QueueUrl=url(app, "JobsQueue"), MessageBody=json.dumps({"kind": "job", "id": "held"})
    )
    time.sleep(2)
    assert done(app, "held") is None
    assert counts(app, "JobsQueue") == (1, 0)

    functions.update_event_source_mapping(UUID=jobs["UUID"], Enabled=True)
    eventually(lambda: done(app, "held"))


def test_start_message_move_task_moves_a_dead_letter_queues_messages_back(app):
    client = sqs(app)
    client.send_message(QueueUrl=url(app, "ParkedQueue"), MessageBody="parcel")
    assert client.receive_message(QueueUrl=url(app, "ParkedQueue"), WaitTimeSeconds=1)["Messages"]
    # received once (maxReceiveCount 1): the next receive moves it to the dead-letter queue
    eventually(
        lambda: (
            not client.receive_message(QueueUrl=url(app, "ParkedQueue")).get("Messages")
            and counts(app, "ParkedDeadLetters") == (1, 0)
        )
    )

    source = "arn:aws:sqs:us-east-1:123456789012:ParkedDeadLetters"
    handle = client.start_message_move_task(SourceArn=source)["TaskHandle"]

    assert handle
    task = client.list_message_move_tasks(SourceArn=source)["Results"][0]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 1)
    assert task["DestinationArn"] == "arn:aws:sqs:us-east-1:123456789012:ParkedQueue"
    assert counts(app, "ParkedDeadLetters") == (0, 0)
    back = client.receive_message(QueueUrl=url(app, "ParkedQueue"), AttributeNames=["All"])["Messages"]
    assert back[0]["Body"] == "parcel"
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "1"  # counted afresh, as SQS does


def test_messages_survive_kill_9(app, tmp_path):
    client = sqs(app)
    bodies = [f"kept-{number}" for number in range(5)]
    for body in bodies:
        client.send_message(
            QueueUrl=url(app, "ParkedQueue"),
            MessageBody=body,
            MessageAttributes={"n": {"DataType": "Number", "StringValue": body[-1]}},
        )
    state = app.args[app.args.index("--state-dir") + 1]

    app.stop(signal.SIGKILL)
    again = start_app(tmp_path, "queue-worker", state=state)
    try:
        found = sqs(again).receive_message(
            QueueUrl=url(again, "ParkedQueue"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )["Messages"]
        assert sorted(m["Body"] for m in found) == bodies
        assert {m["MessageAttributes"]["n"]["StringValue"] for m in found} == {"0", "1", "2", "3", "4"}
    finally:
        again.stop()
