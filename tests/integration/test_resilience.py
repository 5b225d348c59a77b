"""DynamoDB throttling or unreachable: 503 with Retry-After; logs and metrics stay structured."""

from __future__ import annotations

import io
import json

import pytest
from botocore.stub import Stubber

from tests.support.events import record_path

THROTTLES = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
]


@pytest.fixture
def dynamodb_stub(api):
    """botocore's Stubber on the function's own client: used for the failure only."""
    from serverless_crud.dal.clients import client

    with Stubber(client("dynamodb")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", THROTTLES)
def test_throttling_is_503_with_retry_after(api, dynamodb_stub, code):
    dynamodb_stub.add_client_error("get_item", service_error_code=code, http_status_code=400)
    reply = api.get(record_path("a@example.com", 1), headers={"Origin": "https://app.example.com"})
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "2"
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert code not in reply.body


def test_throttled_write_changes_nothing(api, dynamodb_stub):
    dynamodb_stub.add_client_error("put_item", service_error_code="ThrottlingException", http_status_code=400)
    assert api.post("/records", {"email": "a@example.com", "name": "A"}).status == 503
    dynamodb_stub.deactivate()
    assert api.get("/records").json()["items"] == []


def test_unreachable_dynamodb_is_503(api, monkeypatch):
    from serverless_crud.dal.clients import client

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # nothing listens on port 9
    client.cache_clear()
    try:
        from tests.conftest import reset_function_state

        reset_function_state()
        reply = api.get("/records")
    finally:
        monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
        client.cache_clear()
    assert reply.status == 503
    assert reply.headers["Retry-After"] == "2"


@pytest.fixture
def log_lines(monkeypatch):
    """What the function's Powertools logger writes (it holds the stdout it was created with)."""
    from serverless_crud.observability import logger

    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return lambda: [json.loads(line) for line in stream.getvalue().splitlines()]


def test_logs_are_json_with_the_request_id_as_correlation_id(api, dynamodb_stub, log_lines):
    dynamodb_stub.add_client_error("get_item", service_error_code="ThrottlingException", http_status_code=400)
    api.get(record_path("a@example.com", 1))
    request_id = api.events[-1]["requestContext"]["requestId"]
    lines = log_lines()
    warning = next(line for line in lines if line.get("level") == "WARNING")
    assert warning["correlation_id"] == request_id
    assert warning["service"] == "serverless-crud"
    assert warning["function_request_id"]


def test_writes_publish_embedded_metric_format(api, capfd):
    api.post("/records", {"email": "a@example.com", "name": "A"})
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    emf = next(line for line in lines if "_aws" in line)
    assert emf["RecordsCreated"] == [1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ServerlessCrudTests"
