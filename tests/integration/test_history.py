"""The history consumer against the embedded AWS, with the stream's records handed over in the order
and batches a test chooses: API Gateway events into the records handler, the table's real stream
records (read with boto3) into the history handler, as Lambda would deliver them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import reset_function_state, template_table


@pytest.fixture
def history_table(aws: Any, table: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The history table as the template declares it, and the records table's stream."""
    definition = template_table("HistoryTable")
    definition["TableName"] = f"history-{table['TableName']}"
    aws.create_table(**definition)
    monkeypatch.setenv("HISTORY_TABLE", definition["TableName"])
    reset_function_state()
    yield definition["TableName"]
    aws.delete_table(TableName=definition["TableName"])


def stream_records(aws: Any, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, as Lambda's DynamoDB event carries them."""
    import boto3

    # moto intercepts the streams API at its classic host (newer botocores resolve another one).
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    arn = aws.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return json.loads(json.dumps(records, default=lambda moment: moment.timestamp()))  # type: ignore[no-any-return]


def deliver(records: list[dict[str, Any]]) -> dict[str, Any]:
    from serverless_crud.history_consumer import handler
    from tests.support.events import lambda_context

    answer: dict[str, Any] = handler({"Records": records}, lambda_context())
    return answer


def test_a_creation_delivered_after_the_deletion_was_noted_keeps_it_deleted(
    api: Any, aws: Any, table: dict[str, Any], history_table: str
) -> None:
    created = api.post("/records", {"email": "late@example.com", "name": "Short-lived"}).json()
    path = f"/records/late%40example.com/{created['id']}"
    assert api.delete(path).status == 204
    listed = api.get("/deleted?email=late%40example.com").json()["items"]
    assert [e["record"]["id"] for e in listed] == [created["id"]]  # the API noted it at once

    insert, remove = stream_records(aws, table["TableName"])
    assert deliver([insert]) == {"batchItemFailures": []}  # the creation, in a batch of its own
    listed = api.get("/deleted?email=late%40example.com").json()["items"]
    assert [e["record"]["id"] for e in listed] == [created["id"]]
    assert deliver([remove]) == {"batchItemFailures": []}
    entries = api.get(f"{path}/history").json()["items"]
    assert [(e["version"], e["how"]) for e in entries] == [(1, "delete"), (1, "create")]

    # Restored: the key is in use again, and the deletion leaves the list once its creation arrives.
    assert api.post(f"/deleted/{quote('late@example.com')}/{created['id']}/restore").status == 201
    (restored,) = [
        r
        for r in stream_records(aws, table["TableName"])
        if r["eventID"] not in (insert["eventID"], remove["eventID"])
    ]
    assert deliver([restored]) == {"batchItemFailures": []}
    assert api.get("/deleted?email=late%40example.com").json()["items"] == []
    assert [e["how"] for e in api.get(f"{path}/history").json()["items"]] == ["restore", "delete", "create"]


def test_a_change_that_cannot_be_written_is_named_for_the_retry_and_counted(
    api: Any, aws: Any, table: dict[str, Any], history_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post("/records", {"email": "fail@example.com", "name": "One"})
    api.post("/records", {"email": "fail@example.com", "name": "Two"})
    first, second = stream_records(aws, table["TableName"])
    aws.delete_table(TableName=history_table)  # the history's table is gone: every write fails
    try:
        answer = deliver([first, second])
        assert answer == {"batchItemFailures": [{"itemIdentifier": first["dynamodb"]["SequenceNumber"]}]}
        metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
        assert any(m.get("HistoryWriteFailures") == [1.0] for m in metrics), metrics
    finally:
        definition = {**template_table("HistoryTable"), "TableName": history_table}
        aws.create_table(**definition)
