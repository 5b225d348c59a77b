"""Shared fixtures: an embedded AWS (moto) with the template's tables, and the handler as a client."""

from __future__ import annotations

import copy
import functools
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# The function's environment as a test process sees it: dummy credentials, one region.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "CURSOR_SECRET": "test-cursor-secret",
        "TABLE_NAME": "records",  # each test's table fixture names its own
        "IDEMPOTENCY_TABLE": "idempotency",
        "ALLOWED_ORIGINS": "https://app.example.com,https://admin.example.com",
        "POWERTOOLS_METRICS_NAMESPACE": "ServerlessCrudTests",
        # The open mode, as before sign-in: the tests of identity switch to cognito themselves.
        "AUTH_MODE": "none",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules marked `runs_for(seconds)` first, the longest first, the others in their order.

    `make test` hands whole modules to two workers (`--dist loadfile --no-loadscope-reorder`): a long
    module started last would leave the other worker idle until it ends.
    """

    def seconds(item: pytest.Item) -> float:
        mark = item.get_closest_marker("runs_for")
        return -float(mark.args[0]) if mark else 0.0

    items.sort(key=seconds)


#: Key layouts the suite runs against: the template's own, and the original console table whose
#: sort key attribute is literally named "1".
KEY_LAYOUTS = {"template-keys": None, "sort-key-named-1": "1"}


@functools.cache
def _template_tables() -> dict[str, dict[str, Any]]:
    from serverless_local.template import load_template, table_definitions

    return table_definitions(load_template(TEMPLATE))


def template_table(logical_id: str) -> dict[str, Any]:
    """CreateTable parameters of the template's table `logical_id` (a copy to change at will).

    The template is read once per session: parsing it took two thirds of the integration layer's CPU
    when every test's tables read it again.
    """
    return copy.deepcopy(_template_tables()[logical_id])


def records_table(sort_key_name: str | None) -> dict[str, Any]:
    """CreateTable parameters of the records table, read from template.yaml."""
    definition = template_table("RecordsTable")
    if sort_key_name is None:
        return definition
    old = next(k["AttributeName"] for k in definition["KeySchema"] if k["KeyType"] == "RANGE")

    def rename(entries: list[dict[str, str]]) -> list[dict[str, str]]:
        return [
            {**e, "AttributeName": sort_key_name if e["AttributeName"] == old else e["AttributeName"]}
            for e in entries
        ]

    return {
        **definition,
        "KeySchema": rename(definition["KeySchema"]),
        "AttributeDefinitions": rename(definition["AttributeDefinitions"]),
        "GlobalSecondaryIndexes": [
            {**index, "KeySchema": rename(index["KeySchema"])}
            for index in definition.get("GlobalSecondaryIndexes", [])
        ],
    }


def idempotency_table() -> dict[str, Any]:
    """CreateTable parameters of the idempotency table, read from template.yaml."""
    return template_table("IdempotencyTable")


def reset_function_state() -> None:
    """Forget the settings and everything built from them, as a new Lambda instance would.

    The botocore client is kept: moto intercepts it whichever mock is active, and creating one
    costs more than the rest of a test.
    """
    from serverless_crud import settings

    settings.reset()


@pytest.fixture(scope="session")
def aws() -> Iterator[Any]:
    """moto's embedded AWS for the whole session; returns a boto3 DynamoDB client."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("dynamodb")


_tables = itertools.count()


@pytest.fixture(params=list(KEY_LAYOUTS), ids=list(KEY_LAYOUTS))
def table(
    request: pytest.FixtureRequest, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """A fresh records table as the template declares it, once per key layout."""
    definition = records_table(KEY_LAYOUTS[request.param])
    definition["TableName"] = f"{definition['TableName']}-{next(_tables)}"
    keys = {k["KeyType"]: k["AttributeName"] for k in definition["KeySchema"]}
    aws.create_table(**definition)
    idempotency = {**idempotency_table(), "TableName": f"idempotency-{definition['TableName']}"}
    aws.create_table(**idempotency)
    monkeypatch.setenv("IDEMPOTENCY_TABLE", idempotency["TableName"])
    monkeypatch.setenv("TABLE_NAME", definition["TableName"])
    monkeypatch.setenv("PARTITION_KEY", keys["HASH"])
    monkeypatch.setenv("SORT_KEY", keys["RANGE"])
    reset_function_state()
    yield definition
    aws.delete_table(TableName=definition["TableName"])
    aws.delete_table(TableName=idempotency["TableName"])
    reset_function_state()


@pytest.fixture
def api(table: dict[str, Any]) -> Any:
    """The handler, driven with REST proxy events."""
    from tests.support.client import HandlerClient

    return HandlerClient()
