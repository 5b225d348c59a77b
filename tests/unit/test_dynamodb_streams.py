"""DynamoDB stream records as the local runtime keeps them: no record for a write that changed nothing,
24 hours kept, put back on a shard with their sequence numbers."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from serverless_local.services.dynamodb import streams as dynamodb_streams


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="Notes",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        from moto.dynamodb.models import dynamodb_backends

        yield client, dynamodb_backends["123456789012"]["us-east-1"].get_table("Notes")


def put(client: Any, text: str) -> None:
    client.put_item(TableName="Notes", Item={"id": {"S": "a"}, "text": {"S": text}})


def test_a_write_that_changes_nothing_leaves_no_record(table):
    client, found = table
    put(client, "one")
    records = dynamodb_streams.new_records(found, 0)
    put(client, "one")  # the very same item
    put(client, "two")

    fresh = dynamodb_streams.new_records(found, 1)
    assert [r.record["eventName"] for r in records + fresh] == ["INSERT", "MODIFY"]
    numbers = [int(r.record["dynamodb"]["SequenceNumber"]) for r in found.stream_shard.items]
    assert numbers == [numbers[0], numbers[0] + 1]  # contiguous, as moto numbers them


def test_records_survive_as_journal_entries_with_their_numbers(table):
    client, found = table
    put(client, "one")
    put(client, "two")
    entries = [dynamodb_streams.entry(found, record) for record in found.stream_shard.items]
    numbers = [e["record"]["dynamodb"]["SequenceNumber"] for e in entries]

    found.stream_shard.items.clear()
    dynamodb_streams.restore(found, entries)
    dynamodb_streams.restore(found, entries)  # twice (a snapshot and the journal): once

    assert [r.record["dynamodb"]["SequenceNumber"] for r in found.stream_shard.items] == numbers
    put(client, "three")
    assert int(found.stream_shard.items[-1].record["dynamodb"]["SequenceNumber"]) == int(numbers[-1]) + 1


def test_records_older_than_a_day_are_trimmed(table):
    client, found = table
    put(client, "old")
    put(client, "new")
    first = int(found.stream_shard.items[0].record["dynamodb"]["SequenceNumber"])
    found.stream_shard.items[0].record["dynamodb"]["ApproximateCreationDateTime"] = datetime.datetime(
        2020, 1, 1
    )

    dynamodb_streams.trim(found)

    assert len(found.stream_shard.items) == 1
    assert found.stream_shard.starting_sequence_number == first + 1
