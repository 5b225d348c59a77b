"""The one local AWS endpoint: every embedded service, any region or credentials, DynamoDB's promises kept."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

from tests.e2e.conftest import aws_client, start_server


def client(server, service, region="eu-west-3", key="AKIDANY"):
    return aws_client(server.aws, service, region, key)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("aws"), "--concurrency", "4")
    yield server
    server.stop()


def test_the_banner_names_one_endpoint_for_every_service(server):
    assert f"AWS endpoint {server.aws}" in server.output()
    assert server.dynamodb == server.aws


def test_other_services_answer_there_with_any_region_and_credentials(server):
    client(server, "s3", "eu-west-1", "AKIDONE").create_bucket(
        Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    client(server, "s3", "ap-south-1", "AKIDTWO").put_object(Bucket="uploads", Key="a.txt", Body=b"hello")

    body = client(server, "s3", "us-west-2", "AKIDTHREE").get_object(Bucket="uploads", Key="a.txt")["Body"]
    assert body.read() == b"hello"
    queue = client(server, "sqs", "sa-east-1").create_queue(QueueName="jobs")["QueueUrl"]
    assert client(server, "sqs", "us-east-2").list_queues(QueueNamePrefix="jobs")["QueueUrls"] == [queue]


def test_batch_answers_once_the_state_machines_are_ready(server):
    """The Step Functions engine is loaded without moto's Batch service (stepfunctions.import_engine):
    Batch itself still answers in full afterwards, and a machine's Batch task type is still known."""
    server.wait_for_output("States ready")
    batch = client(server, "batch", "eu-west-1")
    assert batch.describe_job_queues()["jobQueues"] == []
    states = client(server, "stepfunctions", "eu-west-1")
    definition = {
        "StartAt": "Submit",
        "States": {
            "Submit": {
                "Type": "Task",
                "Resource": "arn:aws:states:::batch:submitJob.sync",
                "Parameters": {"JobName": "j", "JobQueue": "q", "JobDefinition": "d"},
                "End": True,
            }
        },
    }
    created = states.create_state_machine(
        name="submits-a-batch-job",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/any",
    )
    assert created["stateMachineArn"].endswith(":submits-a-batch-job")


def test_motos_own_reset_is_not_served(server):
    created = server.request("POST", "/records", {"email": "kept@example.com", "name": "Kept"})
    request = urllib.request.Request(server.aws + "/moto-api/reset", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code

    assert status == 404
    assert server.request("GET", created.headers["Location"]).status == 200


def test_conditional_writes_on_one_item_have_exactly_one_winner_over_http_and_boto3(server):
    record = server.request("POST", "/records", {"email": "race@example.com", "name": "v1"}).json()
    path = f"/records/race%40example.com/{record['id']}"
    key = {"email": {"S": "race@example.com"}, "id": {"N": str(record["id"])}}
    barrier = threading.Barrier(24)
    winners: list[str] = []
    lock = threading.Lock()

    def over_http(number):
        barrier.wait()
        reply = server.request(
            "PATCH",
            path,
            {"name": f"http{number}"},
            {"If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
        )
        if reply.status == 200:
            with lock:
                winners.append(f"http{number}")
        else:
            assert reply.status == 412, reply.body

    def over_boto3(number):
        dynamodb = client(server, "dynamodb", key=f"AKID{number}")
        barrier.wait()
        try:
            dynamodb.update_item(
                TableName="RecordsTable",
                Key=key,
                UpdateExpression="SET #n = :n, #v = :next",
                ConditionExpression="#v = :one",
                ExpressionAttributeNames={"#n": "name", "#v": "version"},
                ExpressionAttributeValues={
                    ":n": {"S": f"boto{number}"},
                    ":one": {"N": "1"},
                    ":next": {"N": "2"},
                },
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            return
        with lock:
            winners.append(f"boto{number}")

    threads = [threading.Thread(target=over_http, args=(n,)) for n in range(16)]
    threads += [threading.Thread(target=over_boto3, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1, winners
    assert server.request("GET", path).json()["name"] == winners[0]


def test_each_creates_metric_and_log_lines_reach_the_functions_log_group(server):
    """What a function prints (Powertools' EMF metrics and JSON logs) is in its log group, as on AWS."""
    bodies = [{"email": f"metric{n}@example.com", "name": "Metric"} for n in range(3)]
    created = [server.request("POST", "/records", body) for body in bodies]
    assert [reply.status for reply in created] == [201, 201, 201]
    lambda_ = client(server, "lambda")
    group = lambda_.get_function(FunctionName="RecordsFunction")["Configuration"]["LoggingConfig"]["LogGroup"]
    logs = client(server, "logs")

    def metric_lines() -> list[dict]:
        events = logs.filter_log_events(logGroupName=group, filterPattern="RecordsCreated")["events"]
        lines = [json.loads(event["message"]) for event in events if event["message"].startswith("{")]
        return [line for line in lines if "_aws" in line and "RecordsCreated" in line]

    deadline = time.monotonic() + 10
    while len(metric_lines()) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    metrics = metric_lines()
    assert len(metrics) >= 3, metrics  # the other tests of this module create records too
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ServerlessCrud"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert streams and all(stream["logStreamName"].count("/[$LATEST]") == 1 for stream in streams)


# -- what the endpoint does not do, said as AWS says it ---------------------------------------------
def _no_retries(server, service):
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=server.aws,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


def test_invoking_an_unknown_function_is_resource_not_found(server):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        _no_retries(server, "lambda").invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    answer = raised.value.response
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert answer["Error"]["Code"] == "ResourceNotFoundException"
    assert "NoSuchFunction" in answer["Error"]["Message"]
    assert answer["ResponseMetadata"]["RetryAttempts"] == 0


def test_lambda_reports_the_templates_runtime_and_architecture(server):
    functions = {f["FunctionName"]: f for f in _no_retries(server, "lambda").list_functions()["Functions"]}
    assert functions["RecordsFunction"]["Runtime"] == "python3.12"
    assert functions["RecordsFunction"]["Architectures"] == ["arm64"]


@pytest.mark.parametrize(
    ("service", "call", "protocol"),
    [
        ("cognito-idp", lambda c: c.describe_risk_configuration(UserPoolId="us-east-1_abc"), "JSON"),
        ("dynamodb", lambda c: c.describe_contributor_insights(TableName="RecordsTable"), "JSON"),
        ("sns", lambda c: c.get_data_protection_policy(ResourceArn="arn:aws:sns:us-east-1:1:t"), "XML"),
    ],
)
def test_an_action_not_emulated_is_an_aws_error_in_the_services_protocol(server, service, call, protocol):
    from botocore.exceptions import ClientError

    before = server.output().count("AWS endpoint:")
    with pytest.raises(ClientError) as raised:
        call(_no_retries(server, service))
    answer = raised.value.response
    assert answer["Error"]["Code"] == "NotImplemented"  # parsed from the service's own shape
    assert "not emulated" in answer["Error"]["Message"]
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert answer["ResponseMetadata"]["RetryAttempts"] == 0
    content_type = answer["ResponseMetadata"]["HTTPHeaders"]["content-type"]
    assert ("json" in content_type) == (protocol == "JSON")
    lines = server.output().splitlines()
    said = [line for line in lines if "AWS endpoint:" in line][before:]
    assert len(said) == 1 and "not emulated" in said[0]
    assert "Traceback" not in server.output()
