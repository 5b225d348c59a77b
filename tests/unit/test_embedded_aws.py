"""The hooks on moto's DynamoDB (pinned version): one backend for all, every write journaled."""

from __future__ import annotations

import time

import boto3
import moto
import pytest
from moto.dynamodb.responses import DynamoHandler

from serverless_local import embedded_aws
from serverless_local.embedded_aws import HOOKED_MOTO_VERSION, EmbeddedAws
from serverless_local.journal import Store

TABLE = {
    "TableName": "T",
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "k", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


@pytest.fixture
def aws(tmp_path):
    embedded = EmbeddedAws(Store(tmp_path, sync=False))
    embedded.start()
    embedded.load()
    embedded.ensure_tables({"T": TABLE}, {"T": {"AttributeName": "ttl", "Enabled": True}})
    yield embedded
    embedded.stop()


def client(region):
    return boto3.client(
        "dynamodb", region_name=region, aws_access_key_id=f"AKID{region}", aws_secret_access_key="x"
    )


def test_the_hooks_were_written_for_this_moto():
    assert moto.__version__ == HOOKED_MOTO_VERSION


def test_every_region_sees_one_set_of_tables(aws):
    client("eu-west-1").put_item(TableName="T", Item={"k": {"S": "a"}, "n": {"N": "1"}})

    assert client("ap-southeast-2").get_item(TableName="T", Key={"k": {"S": "a"}, "n": {"N": "1"}})["Item"]


def test_each_write_is_journaled_as_the_state_it_left(aws):
    writer = client("us-west-2")
    key = {"k": {"S": "a"}, "n": {"N": "1"}}
    writer.put_item(TableName="T", Item={**key, "v": {"N": "1"}})
    writer.update_item(
        TableName="T", Key=key, UpdateExpression="ADD v :one", ExpressionAttributeValues={":one": {"N": "1"}}
    )
    with pytest.raises(writer.exceptions.ConditionalCheckFailedException):
        writer.put_item(TableName="T", Item=key, ConditionExpression="attribute_not_exists(k)")
    writer.get_item(TableName="T", Key=key)
    writer.delete_item(TableName="T", Key=key)

    entries = aws.store.read_journal().entries
    ops = [entry["op"] for entry in entries]
    assert ops == ["create_table", "update_ttl", "put", "put", "delete"]
    assert entries[3]["item"]["v"] == {"N": "2"}
    assert entries[4]["key"] == key


def test_the_state_rebuilds_from_snapshot_and_journal(aws, tmp_path):
    writer = client("us-east-1")
    writer.put_item(TableName="T", Item={"k": {"S": "a"}, "n": {"N": "1"}})
    aws.compact()
    writer.put_item(TableName="T", Item={"k": {"S": "b"}, "n": {"N": "2"}, "bin": {"B": b"\x00"}})
    aws.stop()

    again = EmbeddedAws(Store(tmp_path, sync=False))
    again.start()
    try:
        report = again.load()
        assert (report.snapshot_items, report.journal_entries) == (1, 1)
        items = client("us-east-1").scan(TableName="T")["Items"]
        assert sorted(item["k"]["S"] for item in items) == ["a", "b"]
        assert client("us-east-1").describe_time_to_live(TableName="T")["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": "ttl",
        }
    finally:
        again.stop()


def test_stopping_gives_moto_its_methods_back(tmp_path):
    original = DynamoHandler.__dict__["call_action"]
    embedded = EmbeddedAws(Store(tmp_path, sync=False))
    embedded.start()
    assert DynamoHandler.__dict__["call_action"] is not original
    embedded.stop()

    assert DynamoHandler.__dict__["call_action"] is original


def test_a_large_journal_is_compacted_while_writes_go_on(aws, tmp_path, monkeypatch):
    monkeypatch.setattr(embedded_aws, "COMPACT_AFTER_BYTES", 1)
    writer = client("us-east-1")
    for number in range(20):
        writer.put_item(TableName="T", Item={"k": {"S": f"k{number}"}, "n": {"N": "1"}})
    deadline = time.monotonic() + 30
    while not (tmp_path / "CURRENT").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    aws.compact()  # waits for a compaction in progress, then folds in the rest
    aws.stop()

    again = EmbeddedAws(Store(tmp_path, sync=False))
    again.start()
    try:
        report = again.load()
        assert report.snapshot_items == 20
        assert report.journal_entries == 0
    finally:
        again.stop()
