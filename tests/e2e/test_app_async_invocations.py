"""tests/apps/async-invocations: `InvocationType: Event`, Lambda's retries, destinations, dead letters."""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, aws_client, eventually, start_app

#: Retries a moment apart (Lambda's own wait a minute, then two).
RETRY = ("--async-retry-delay", "0.3")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("async-invocations"), "async-invocations", *RETRY)
    yield server
    server.stop()


def invoke_async(server: Server, function: str, event: dict[str, Any]) -> dict[str, Any]:
    return aws_client(server.aws, "lambda").invoke(  # type: ignore[no-any-return]
        FunctionName=function, InvocationType="Event", Payload=json.dumps(event)
    )


def tries(server: Server, key: str) -> int:
    item = aws_client(server.aws, "dynamodb").get_item(TableName="TriesTable", Key={"id": {"S": key}})
    return int(item.get("Item", {}).get("tries", {}).get("N", 0))


def messages(server: Server, queue: str) -> list[dict[str, Any]]:
    sqs = aws_client(server.aws, "sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
    ).get("Messages", [])
    for message in found:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found  # type: ignore[no-any-return]


def test_an_event_is_accepted_at_once_and_retried_until_it_succeeds(app):
    key = str(uuid.uuid4())
    answer = invoke_async(app, "Flaky", {"id": key, "failures": 1})

    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    record = json.loads(eventually(lambda: messages(app, "Successes"))[0]["Body"])
    assert tries(app, key) == 2
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestContext"]["functionArn"].endswith(":function:Flaky:$LATEST")
    assert record["requestPayload"] == {"id": key, "failures": 1}
    assert record["responsePayload"] == {"id": key, "tries": 2}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}


def test_an_event_that_keeps_failing_goes_to_the_on_failure_destination(app):
    key = str(uuid.uuid4())
    invoke_async(app, "Flaky", {"id": key, "failures": 9})

    envelope = json.loads(eventually(lambda: messages(app, "Failures"))[0]["Body"])
    record = json.loads(envelope["Message"])  # through the topic
    assert tries(app, key) == 2  # MaximumRetryAttempts: 1
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "attempt 2 failed"


def test_an_eventbridge_destination_receives_lambdas_result_event(app):
    key = str(uuid.uuid4())
    invoke_async(app, "Reporter", {"id": key})

    event = json.loads(eventually(lambda: messages(app, "ResultsCopy"))[0]["Body"])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["detail"]["responsePayload"] == {"id": key, "tries": 1}
    assert event["resources"][0].endswith(":function:Reporter")


def test_without_a_destination_a_failed_event_goes_to_the_dead_letter_queue(app):
    key = str(uuid.uuid4())
    invoke_async(app, "Doomed", {"id": key})

    message = eventually(lambda: messages(app, "DeadLetters"))[0]
    assert json.loads(message["Body"]) == {"id": key}
    assert tries(app, key) == 3  # Lambda's default: two retries
    attributes = message["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "this never works"
    assert attributes["ErrorCode"]["StringValue"] == "200"
    assert attributes["RequestID"]["StringValue"]


def test_an_event_over_the_asynchronous_limit_is_refused(app):
    with pytest.raises(ClientError) as refused:
        invoke_async(app, "Slow", {"id": "big", "padding": "x" * 300_000})

    assert refused.value.response["Error"]["Code"] == "RequestTooLargeException"


def test_accepted_events_survive_kill_9(app, tmp_path):
    keys = [f"slow-{number}" for number in range(4)]
    for key in keys:
        invoke_async(app, "Slow", {"id": key, "seconds": 1})
    state = app.args[app.args.index("--state-dir") + 1]

    app.stop(signal.SIGKILL)  # the first one at most has started
    again = start_app(tmp_path, "async-invocations", *RETRY, state=state)
    try:
        eventually(lambda: all(tries(again, key) >= 1 for key in keys))
        assert "asynchronous invocation(s) restored from the journal" in again.output()
    finally:
        again.stop()
