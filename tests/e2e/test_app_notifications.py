"""tests/apps/notifications: events pushed to a function by SNS, S3, EventBridge and schedules."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server, aws_client, eventually, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("notifications"), "notifications")
    yield server
    server.stop()


def seen(server: Server, source: str) -> list[dict[str, Any]]:
    items = aws_client(server.aws, "dynamodb").scan(TableName="SeenTable", ConsistentRead=True)["Items"]
    return [json.loads(i["event"]["S"]) for i in items if i["source"]["S"] == source]


def received(server: Server, queue: str) -> list[str]:
    sqs = aws_client(server.aws, "sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in messages]


def test_a_topic_notifies_the_function_through_its_filter_policy_and_a_queue_directly(app):
    sns = aws_client(app.aws, "sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":AlertsTopic"))
    attributes = {"severity": {"DataType": "String", "StringValue": "high"}}
    sent = sns.publish(TopicArn=topic, Message="disk full", Subject="alert", MessageAttributes=attributes)
    sns.publish(
        TopicArn=topic,
        Message="fyi",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "low"}},
    )

    event = eventually(lambda: seen(app, "aws:sns"))[0]
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"].startswith(topic + ":")
    notification = record["Sns"]
    assert (notification["Message"], notification["Subject"]) == ("disk full", "alert")
    assert notification["MessageId"] == sent["MessageId"]
    assert notification["TopicArn"] == topic
    assert notification["MessageAttributes"]["severity"] == {"Type": "String", "Value": "high"}
    copies = eventually(lambda: received(app, "AlertsCopy"))  # the queue's subscription has no filter
    assert sorted(json.loads(body)["Message"] for body in copies) == ["disk full", "fyi"]
    assert len(seen(app, "aws:sns")) == 1  # the low one did not pass the function's filter policy


def test_a_bucket_notifies_the_function_for_its_prefix(app):
    s3 = aws_client(app.aws, "s3")
    s3.put_object(Bucket="uploadsbucket", Key="incoming/report 1.csv", Body=b"a,b\n")
    s3.put_object(Bucket="uploadsbucket", Key="elsewhere/x.csv", Body=b"a,b\n")

    event = eventually(lambda: seen(app, "aws:s3"))[0]
    record = event["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == "uploadsbucket"
    assert record["s3"]["object"]["key"] == "incoming/report+1.csv"  # as S3 writes keys: URL-encoded
    assert record["s3"]["object"]["size"] == 4
    assert {"userIdentity", "requestParameters", "responseElements"} <= set(record)
    assert record["s3"]["object"]["sequencer"]
    assert len(seen(app, "aws:s3")) == 1


def test_a_bucket_sends_its_events_to_eventbridge(app):
    aws_client(app.aws, "s3").put_object(Bucket="uploadsbucket", Key="archive/old.txt", Body=b"x")

    event = eventually(lambda: seen(app, "aws.s3"))[0]
    assert event["detail-type"] == "Object Created"
    assert event["account"] == "123456789012"
    assert event["resources"] == ["arn:aws:s3:::uploadsbucket"]
    assert event["detail"]["object"]["key"] == "archive/old.txt"
    assert event["detail"]["bucket"]["name"] == "uploadsbucket"


def test_a_custom_bus_rule_hands_on_the_events_detail_and_transforms_it_for_a_queue(app):
    events = aws_client(app.aws, "events")
    answer = events.put_events(
        Entries=[
            {
                "Source": "shop.orders",
                "DetailType": "OrderShipped",
                "Detail": json.dumps({"order": 42}),
                "EventBusName": "orders",
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0

    assert eventually(lambda: seen(app, "input")) == [{"order": 42}]  # InputPath $.detail
    body = eventually(lambda: received(app, "ShippedCopy"))[0]
    assert json.loads(body) == {"shipped": 42, "account": "123456789012", "note": "order 42 shipped"}


def test_an_event_no_rule_matches_goes_nowhere(app):
    events = aws_client(app.aws, "events")
    events.put_events(
        Entries=[{"Source": "somebody.else", "DetailType": "X", "Detail": "{}", "EventBusName": "orders"}]
    )
    assert received(app, "ShippedCopy") == []


def fire(server: Server, name: str) -> subprocess.CompletedProcess[str]:
    state = server.args[server.args.index("--state-dir") + 1]
    return subprocess.run(
        [sys.executable, "-m", "serverless_local.cli", "fire", name, "--state-dir", state],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_a_schedule_fires_on_demand_with_its_input(app):
    fired = fire(app, "RecorderNightly")
    assert fired.returncode == 0, fired.stderr
    assert fired.stdout.strip() == "fired arn:aws:events:us-east-1:123456789012:rule/RecorderNightly"
    assert eventually(lambda: seen(app, "nightly")) == [{"kind": "nightly"}]

    fired = fire(app, "RecorderHourly")  # a ScheduleV2: EventBridge Scheduler
    assert fired.returncode == 0, fired.stderr
    assert eventually(lambda: seen(app, "hourly")) == [{"kind": "hourly"}]


def test_a_schedule_fires_on_time_while_the_server_runs(app):
    scheduler = aws_client(app.aws, "scheduler")
    function = scheduler.get_schedule(Name="RecorderHourly")["Target"]
    when = (datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=3)).replace(microsecond=0)
    scheduler.create_schedule(
        Name="OnTime",
        ScheduleExpression=f"at({when:%Y-%m-%dT%H:%M:%S})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": function["Arn"], "RoleArn": function["RoleArn"], "Input": '{"kind": "on-time"}'},
    )

    assert eventually(lambda: seen(app, "on-time")) == [{"kind": "on-time"}]
    fired_at = datetime.datetime.now(tz=datetime.UTC)
    assert fired_at >= when  # not before its time (how late it fires under load is not asserted)


def test_firing_a_schedule_that_does_not_exist_is_one_sentence(app):
    fired = fire(app, "NoSuchSchedule")

    assert fired.returncode == 1
    assert fired.stderr == "serverless-local: no enabled schedule or scheduled rule is named NoSuchSchedule\n"


def test_the_schedules_are_at_the_endpoint(app):
    rule = aws_client(app.aws, "events").describe_rule(Name="RecorderNightly")
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    schedule = aws_client(app.aws, "scheduler").get_schedule(Name="RecorderHourly")
    assert schedule["ScheduleExpression"] == "rate(1 hour)"
    assert schedule["Target"]["Arn"].endswith(":function:Recorder")
