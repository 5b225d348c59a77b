"""Several Lambda instances (processes) at once against one DynamoDB endpoint (moto's server)."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import boto3
import pytest

from tests.conftest import records_table
from tests.support.events import record_path, rest_event
from tests.support.workers import invoke_all

INSTANCES = 6


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's DynamoDB over HTTP. Requests are applied one at a time, as DynamoDB applies
    conditional writes to an item atomically (moto's own threaded server does not)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def instances(endpoint: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Run lists of events in INSTANCES fresh processes at once; returns their responses."""
    definition = records_table(None)
    definition["TableName"] = f"concurrency-{request.node.name}"[:200].replace("[", "-").replace("]", "")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
    dynamodb.create_table(**definition)
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "TABLE_NAME": definition["TableName"],
        "PARTITION_KEY": "email",
        "SORT_KEY": "id",
    }
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(INSTANCES, mp_context=context) as pool:
        barrier = manager.Barrier(INSTANCES)

        def run(batches: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
            futures = [pool.submit(invoke_all, env, barrier, batch) for batch in batches]
            return [response for future in futures for response in future.result(timeout=120)]

        yield run, dynamodb, definition["TableName"]


def test_concurrent_creates_without_id_never_overwrite(instances):
    run, dynamodb, table_name = instances
    per_instance = 8
    body = {"email": "race@example.com", "name": "racer"}
    responses = run(
        [[rest_event("POST", "/records", body=body) for _ in range(per_instance)] for _ in range(INSTANCES)]
    )
    assert [r["statusCode"] for r in responses] == [201] * INSTANCES * per_instance
    ids = {json.loads(r["body"])["id"] for r in responses}
    assert len(ids) == INSTANCES * per_instance
    assert dynamodb.scan(TableName=table_name, Select="COUNT")["Count"] == INSTANCES * per_instance


def test_concurrent_if_match_updates_exactly_one_wins(instances):
    run, dynamodb, table_name = instances
    dynamodb.put_item(
        TableName=table_name,
        Item={
            "email": {"S": "race@example.com"},
            "id": {"N": "1"},
            "name": {"S": "v1"},
            "version": {"N": "1"},
            "created_at": {"S": "2026-01-01T00:00:00.000Z"},
            "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
        },
    )
    path = record_path("race@example.com", 1)
    responses = run(
        [
            [rest_event("PUT", path, body={"name": f"writer {n}"}, headers={"If-Match": '"1"'})]
            for n in range(INSTANCES)
        ]
    )
    statuses = sorted(r["statusCode"] for r in responses)
    assert statuses == [200] + [412] * (INSTANCES - 1)
    winner = json.loads(next(r["body"] for r in responses if r["statusCode"] == 200))
    item = dynamodb.get_item(TableName=table_name, Key={"email": {"S": "race@example.com"}, "id": {"N": "1"}})
    assert item["Item"]["name"]["S"] == winner["name"]
    assert item["Item"]["version"]["N"] == "2"
