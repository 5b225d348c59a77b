"""The hooks on moto (pinned version) and the DynamoDB service: one backend for all, journaled writes,
no memory kept per item read, and reads that answer exactly what moto answers."""

from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import moto
import pytest
from moto.core.common_models import BaseModel
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from werkzeug.test import Client as WerkzeugClient

from serverless_local.embedded_aws import HOOKED_MOTO_VERSION, EmbeddedAws, ServiceUnavailable
from serverless_local.options import ServeOptions
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.dynamodb import service as dynamodb
from serverless_local.services.dynamodb.service import DynamoDbService
from serverless_local.stack import LocalTemplate
from serverless_local.template import TemplateError

TEMPLATE = """
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: T
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: k, KeyType: HASH}, {AttributeName: n, KeyType: RANGE}]
      AttributeDefinitions: [{AttributeName: k, AttributeType: S}, {AttributeName: n, AttributeType: N}]
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
"""


def start(tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    aws = EmbeddedAws()
    aws.start()
    context = ServiceContext(
        LocalTemplate(tmp_path / "template.yaml"),
        aws,
        ServeOptions(state_dir=tmp_path / "state", sync=False),
        endpoint="",
    )
    service = DynamoDbService(context)
    service.start()
    return aws, service


def stop(aws, service):
    service.stop()
    aws.stop()


@pytest.fixture
def table(tmp_path):
    aws, service = start(tmp_path)
    yield service
    stop(aws, service)


def client(region):
    return boto3.client(
        "dynamodb", region_name=region, aws_access_key_id=f"AKID{region}", aws_secret_access_key="x"
    )


def test_the_hooks_were_written_for_this_moto():
    assert moto.__version__ == HOOKED_MOTO_VERSION


def test_every_region_sees_one_set_of_tables(table):
    client("eu-west-1").put_item(TableName="T", Item={"k": {"S": "a"}, "n": {"N": "1"}})

    assert client("ap-southeast-2").get_item(TableName="T", Key={"k": {"S": "a"}, "n": {"N": "1"}})["Item"]


def test_every_region_sees_one_backend_of_every_service(table):
    boto3.client(
        "sqs", region_name="eu-west-3", aws_access_key_id="A", aws_secret_access_key="x"
    ).create_queue(QueueName="q")

    names = boto3.client("sqs", region_name="us-west-2", aws_access_key_id="B", aws_secret_access_key="x")
    assert [url.rsplit("/", 1)[1] for url in names.list_queues()["QueueUrls"]] == ["q"]


def test_each_write_is_journaled_as_the_state_it_left(table):
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

    entries = table.store.read_journal().entries
    assert [entry["op"] for entry in entries] == ["create_table", "update_ttl", "put", "put", "delete"]
    assert entries[3]["item"]["v"] == {"N": "2"}
    assert entries[4]["key"] == key


def test_the_state_rebuilds_from_snapshot_and_journal(tmp_path):
    aws, service = start(tmp_path)
    writer = client("us-east-1")
    writer.put_item(TableName="T", Item={"k": {"S": "a"}, "n": {"N": "1"}})
    service.compact()
    writer.put_item(TableName="T", Item={"k": {"S": "b"}, "n": {"N": "2"}, "bin": {"B": b"\x00"}})
    stop(aws, service)

    aws, service = start(tmp_path)
    try:
        assert service.snapshot_items == 1
        assert service.journal is not None
        assert len(service.journal.entries) == 1
        items = client("us-east-1").scan(TableName="T")["Items"]
        assert sorted(item["k"]["S"] for item in items) == ["a", "b"]
        assert client("us-east-1").describe_time_to_live(TableName="T")["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": "ttl",
        }
    finally:
        stop(aws, service)


def test_stopping_gives_moto_its_methods_back(tmp_path):
    originals = (DynamoHandler.__dict__["call_action"], Table.__dict__["scan"], BaseModel.__dict__["__new__"])
    aws, service = start(tmp_path)
    assert DynamoHandler.__dict__["call_action"] is not originals[0]
    stop(aws, service)

    assert (
        DynamoHandler.__dict__["call_action"],
        Table.__dict__["scan"],
        BaseModel.__dict__["__new__"],
    ) == originals


def test_a_large_journal_is_compacted_while_writes_go_on(tmp_path, monkeypatch):
    monkeypatch.setattr(dynamodb, "COMPACT_AFTER_BYTES", 1)
    aws, service = start(tmp_path)
    writer = client("us-east-1")
    for number in range(20):
        writer.put_item(TableName="T", Item={"k": {"S": f"k{number}"}, "n": {"N": "1"}})
    deadline = time.monotonic() + 30
    while not (tmp_path / "state" / "dynamodb" / "CURRENT").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    service.compact()  # waits for a compaction in progress, then folds in the rest
    stop(aws, service)

    aws, service = start(tmp_path)
    try:
        assert service.snapshot_items == 20
        assert service.journal is not None
        assert service.journal.entries == []
    finally:
        stop(aws, service)


def test_items_read_are_not_kept_in_memory(table):
    from moto.dynamodb.models.dynamo_type import Item

    reader = client("us-east-1")
    for number in range(50):
        reader.put_item(TableName="T", Item={"k": {"S": "p"}, "n": {"N": str(number)}})
    gc.collect()
    before = len(Item.instances_tracked)
    for _ in range(20):
        reader.scan(TableName="T", Limit=25)
        reader.query(
            TableName="T", KeyConditionExpression="k = :k", ExpressionAttributeValues={":k": {"S": "p"}}
        )

    assert len(Item.instances_tracked) == before == 0


RICH = {
    "k": {"S": "p"},
    "n": {"N": "12345678901234567890.123456789"},
    "b": {"B": b"\x00\xff"},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "m": {"M": {"l": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"M": {"b": {"B": b"\x03"}}}]}}},
}


def test_attribute_values_are_written_as_moto_writes_them(table, monkeypatch):
    from moto.core.serialize import ResponseSerializer

    reader = client("us-east-1")
    reader.put_item(TableName="T", Item=RICH)
    key = {"k": RICH["k"], "n": RICH["n"]}
    direct = reader.get_item(TableName="T", Key=key)["Item"]
    monkeypatch.setattr(
        ResponseSerializer,
        "_serialize",
        original(table.context.aws._patches, ResponseSerializer, "_serialize"),
    )

    assert reader.get_item(TableName="T", Key=key)["Item"] == direct == RICH


@pytest.mark.parametrize("page", [1, 7, 25])
def test_scans_and_queries_page_exactly_as_moto_does(table, page, monkeypatch):
    writer = client("us-east-1")
    for number in range(60):
        writer.put_item(TableName="T", Item={**RICH, "k": {"S": f"p{number % 4}"}, "n": {"N": str(number)}})

    def every_page(operation, **request):
        pages, start = [], None
        while True:
            answer = operation(**request, Limit=page, **({"ExclusiveStartKey": start} if start else {}))
            pages.append((answer["Items"], answer.get("LastEvaluatedKey")))
            start = answer.get("LastEvaluatedKey")
            if not start:
                return pages

    query = {
        "TableName": "T",
        "KeyConditionExpression": "k = :k",
        "ExpressionAttributeValues": {":k": {"S": "p2"}},
    }
    filtered = {
        "TableName": "T",
        "FilterExpression": "n >= :low",
        "ProjectionExpression": "k, n, m.#b",
        "ExpressionAttributeNames": {"#b": "b"},
        "ExpressionAttributeValues": {":low": {"N": "17"}},
    }

    def reads():
        return (
            every_page(writer.scan, TableName="T"),
            every_page(writer.query, **query),
            every_page(writer.scan, **filtered),
        )

    fast = reads()
    fast_again = reads()  # the projected pages changed nothing of the items the next reads see
    # moto's own Scan and Query, without the read hooks
    for name in ("scan", "query", "all_items"):
        monkeypatch.setattr(Table, name, original(table._patches, Table, name))
    slow = reads()

    assert fast == fast_again == slow
    assert sum(len(items) for items, _ in fast[0]) == 60
    assert sum(len(items) for items, _ in fast[2]) == 43


def original(patches, owner, name):
    """moto's own attribute, as the patches saved it."""
    for patched_owner, patched_name, saved in patches._saved:
        if patched_owner is owner and patched_name == name:
            return saved
    raise LookupError(name)


class Held(Service):
    """A service whose requests (signed for SQS) are held while it warms up."""

    title = "Held"
    signing_name = "sqs"


def test_a_warming_service_is_answered_once_its_work_has_run(table):
    held = Held(table.context)
    sqs = table.context.aws.client("sqs")
    warmup = held.warm("preparing", lambda: sqs.create_queue(QueueName="made-while-warming"))
    with ThreadPoolExecutor(1) as pool:
        listed = pool.submit(sqs.list_queues)  # asked before the work has even started
        table.context.background.start(delay=30)
        table.context.background.begin()  # as the gateway's first answer does
        assert [url.rsplit("/", 1)[1] for url in listed.result()["QueueUrls"]] == ["made-while-warming"]
    assert warmup.ready


def test_background_work_waits_for_the_first_answer_and_runs_in_order(table):
    done: list[str] = []
    first = Held(table.context).warm("first", lambda: done.append("first"))
    table.context.background.later.append(lambda: done.append("later"))
    second = Held(table.context).warm("second", lambda: done.append("second"))
    table.context.background.start(delay=30)
    assert not first.ready
    table.context.background.begin()
    second.wait()
    table.context.background.stop()
    assert done == ["first", "second", "later"]


def test_warm_ups_never_run_once_the_server_stops_and_their_waiters_are_told(table):
    warmup = Held(table.context).warm("preparing", lambda: None)
    table.context.background.start(delay=30)
    table.context.background.stop()
    with pytest.raises(ServiceUnavailable, match="stopping"):
        warmup.wait()


def test_a_warm_up_that_failed_is_the_answer_at_the_endpoint_and_in_process(table):
    held = Held(table.context)

    def refused() -> None:
        raise TemplateError("Queue: refused")

    held.warm("preparing", refused)
    table.context.background.start(delay=0)
    table.context.background.stop()
    signed = "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host"
    answer = WerkzeugClient(table.context.aws.wsgi_app()).post("/", headers={"Authorization": signed})
    assert (answer.status_code, answer.get_json()) == (
        503,
        {"__type": "ServiceUnavailable", "message": "Queue: refused"},
    )
    with pytest.raises(ServiceUnavailable, match="Queue: refused"):
        table.context.aws.client("sqs").list_queues()
