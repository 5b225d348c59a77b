"""The one client factory: DynamoDB endpoints remembered per operation and table give exactly what
botocore's rules give for each call."""

from __future__ import annotations

import botocore.session
import pytest

from serverless_crud.dal.clients import remember_endpoints


def _client(endpoint_url: str | None = None):
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )


@pytest.mark.parametrize("endpoint_url", [None, "http://127.0.0.1:3001"])
def test_remembered_endpoints_are_those_the_rules_resolve(endpoint_url):
    plain, remembered = _client(endpoint_url), _client(endpoint_url)
    remember_endpoints(remembered)
    calls = [
        ("GetItem", {"TableName": "records", "Key": {}}),
        ("GetItem", {"TableName": "arn:aws:dynamodb:eu-west-1:123456789012:table/other", "Key": {}}),
        ("Query", {"TableName": "records", "IndexName": "by_name"}),
        ("BatchWriteItem", {"RequestItems": {"records": []}}),
        ("BatchWriteItem", {"RequestItems": {"records": [], "jobs": []}}),
    ]
    for _ in range(2):  # the second time from what was remembered
        for operation, arguments in calls:
            model = plain.meta.service_model.operation_model(operation)
            expected = plain._ruleset_resolver.construct_endpoint(model, arguments, {})
            got = remembered._ruleset_resolver.construct_endpoint(model, arguments, {})
            assert (got.url, got.properties, got.headers) == (
                expected.url,
                expected.properties,
                expected.headers,
            )


def test_a_client_without_a_rules_resolver_is_left_alone():
    class Legacy:
        _ruleset_resolver = None

    legacy = Legacy()
    remember_endpoints(legacy)
    assert legacy._ruleset_resolver is None


def test_the_jobs_tasks_wait_longer_for_a_bulk_request_than_the_api(monkeypatch):
    from serverless_crud.dal.clients import client

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client.cache_clear()
    try:
        api, tasks = client("dynamodb"), client("dynamodb", bulk=True)
        assert api is not tasks
        assert (api.meta.config.read_timeout, tasks.meta.config.read_timeout) == (5, 30)
        assert client("s3", bulk=True).meta.config.read_timeout == 60  # never shorter than the service's
    finally:
        client.cache_clear()
