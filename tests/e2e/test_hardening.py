"""Over HTTP, against `serverless-crud serve`: rows written through the local DynamoDB endpoint (not
through the API), bytes that are not UTF-8; the documented settings are the ones the function reads."""

from __future__ import annotations

from urllib.parse import quote

import boto3
import pytest

from tests.e2e.conftest import ROOT, Server

CONFIGURATION = ROOT / "docs" / "configuration.md"


def dynamodb(server: Server):
    return boto3.client(
        "dynamodb",
        endpoint_url=server.dynamodb,
        region_name="eu-west-1",  # any region and credentials see the same local tables
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def table_name(server: Server) -> str:
    return next(name for name in dynamodb(server).list_tables()["TableNames"] if "Records" in name)


def path(email: str, record_id: int | str) -> str:
    return f"/records/{quote(email, safe='')}/{record_id}"


def test_rows_written_through_the_dynamodb_endpoint(app_server: Server):
    client, table = dynamodb(app_server), table_name(app_server)
    client.put_item(
        TableName=table, Item={"email": {"S": "min@example.com"}, "id": {"N": "8"}, "name": {"S": "Minimal"}}
    )
    client.put_item(
        TableName=table, Item={"email": {"S": "Upper@Example.com"}, "id": {"N": "9"}, "name": {"S": "Upper"}}
    )
    client.put_item(
        TableName=table,
        Item={
            "email": {"S": "odd@example.com"},
            "id": {"N": "10"},
            "name": {"S": "Odd"},
            "version": {"S": "3"},
        },
    )

    minimal = app_server.request("GET", path("min@example.com", 8))
    assert minimal.status == 200 and minimal.headers["ETag"] == '"1"'
    assert minimal.json()["version"] == 1 and minimal.json()["created_at"] is None

    listed = {(r["email"], r["id"]) for r in app_server.request("GET", "/records").json()["items"]}
    assert ("Upper@Example.com", 9) in listed and ("odd@example.com", 10) not in listed
    for email, record_id in listed:
        assert app_server.request("GET", path(email, record_id)).status == 200

    edited = app_server.request(
        "PATCH",
        path("Upper@Example.com", 9),
        {"notes": "edited"},
        {"Content-Type": "application/merge-patch+json"},
    )
    assert edited.status == 200 and edited.json()["version"] == 2

    odd = app_server.request("GET", path("odd@example.com", 10))
    assert odd.status == 409 and odd.json()["errors"][0]["field"] == "version"
    assert app_server.request("DELETE", path("odd@example.com", 10)).status == 204
    assert app_server.request("DELETE", path("min@example.com", 8), headers={"If-Match": '"1"'}).status == 204


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_bytes_that_are_not_utf8_never_give_500(app_server: Server, content_type):
    reply = app_server.request("POST", "/records", b'{"name":"\xff"}', {"Content-Type": content_type})
    assert reply.status == (400 if content_type == "application/json" else 415)
    assert reply.headers["Content-Type"] == "application/problem+json"


def test_a_huge_limit_is_400(app_server: Server):
    assert app_server.request("GET", "/records?limit=" + "9" * 5000).status == 400


def test_the_configuration_page_documents_every_setting():
    from serverless_crud.settings import variables

    text = CONFIGURATION.read_text(encoding="utf-8")
    for variable, _, _ in variables():
        assert f"`{variable}`" in text, variable


def test_the_template_passes_every_setting_the_function_reads():
    from serverless_local.template import load_template

    environment = load_template(ROOT / "template.yaml")["Resources"]["RecordsFunction"]["Properties"][
        "Environment"
    ]
    from serverless_crud.settings import variables

    assert {v for v, _, _ in variables()} == set(environment["Variables"])
