"""The API's HTTP surface: CORS, 405, health, OpenAPI, AWS's own sample event, no leaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.events import rest_event

SAMPLE = Path(__file__).resolve().parent.parent / "support" / "samples" / "aws_rest_proxy_event.json"
ALLOWED = "https://app.example.com"


class TestCors:
    @pytest.mark.parametrize("path", ["/records", "/records/a%40example.com/1", "/health", "/anything"])
    def test_preflight_from_an_allowed_origin(self, api, path):
        reply = api.request(
            "OPTIONS",
            path,
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "if-match,content-type",
            },
        )
        assert reply.status == 204
        assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert "PUT" in reply.headers["Access-Control-Allow-Methods"]
        assert "If-Match" in reply.headers["Access-Control-Allow-Headers"]

    @pytest.mark.parametrize("path", ["/health", "/records/a%40example.com/1", "/"])
    def test_responses_vary_by_origin(self, api, path):
        # The test environment allows two named origins, so the CORS headers depend on Origin.
        vary = api.get(path, headers={"Accept-Encoding": "gzip"}).headers["Vary"]
        assert "Origin" in [part.strip() for part in vary.split(",")]

    def test_other_origins_get_no_cors_headers(self, api):
        reply = api.get("/health", headers={"Origin": "https://evil.example.net"})
        assert reply.status == 200
        assert reply.headers.get("Access-Control-Allow-Origin") is None

    def test_second_configured_origin_is_allowed(self, api):
        reply = api.get("/health", headers={"Origin": "https://admin.example.com"})
        assert reply.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"

    @pytest.mark.parametrize(
        ("method", "path", "body", "status"),
        [
            ("GET", "/records/a%40example.com/1", None, 404),
            ("POST", "/records", {"name": 1}, 422),
            ("GET", "/records/a%40example.com/x", None, 400),
            ("DELETE", "/records", None, 405),
            ("GET", "/nowhere", None, 404),
        ],
    )
    def test_errors_carry_cors_headers_too(self, api, method, path, body, status):
        reply = api.request(method, path, body=body, headers={"Origin": ALLOWED})
        assert reply.status == status
        assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert "ETag" in reply.headers["Access-Control-Expose-Headers"]

    def test_etag_and_location_are_exposed_on_success(self, api):
        reply = api.post("/records", {"email": "a@example.com", "name": "A"}, headers={"Origin": ALLOWED})
        exposed = reply.headers["Access-Control-Expose-Headers"]
        assert "ETag" in exposed and "Location" in exposed


class TestMethods:
    @pytest.mark.parametrize(
        ("method", "path", "allow"),
        [
            ("DELETE", "/records", "GET, HEAD, OPTIONS, POST"),
            ("POST", "/records/a%40example.com/1", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
            ("PUT", "/health", "GET, HEAD, OPTIONS"),
        ],
    )
    def test_wrong_method_is_405_with_allow(self, api, method, path, allow):
        reply = api.request(method, path, body="{}", headers={"Content-Type": "application/json"})
        assert reply.status == 405
        assert reply.headers["Allow"] == allow
        assert reply.json()["title"] == "Method Not Allowed"

    def test_unknown_path_is_404_problem(self, api):
        reply = api.get("/records/a%40example.com/1/extra")
        assert reply.status == 404
        assert reply.headers["Content-Type"] == "application/problem+json"


def test_head_answers_like_get_without_a_body(api):
    created = api.post("/records", {"email": "a@example.com", "name": "A"}).json()
    reply = api.request("HEAD", f"/records/a%40example.com/{created['id']}")
    assert reply.status == 200 and reply.body == ""
    assert reply.headers["ETag"] == '"1"'
    assert api.request("HEAD", "/records/a%40example.com/999").status == 404


def test_health(api):
    reply = api.get("/health")
    assert reply.status == 200 and reply.json() == {"status": "ok"}


def test_openapi_document_describes_the_record_model(api):
    reply = api.get("/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.")
    schemas = document["components"]["schemas"]
    assert schemas["RecordCreate"]["required"] == ["name", "email"]
    assert schemas["RecordFields"]["properties"]["name"]["maxLength"] == 200
    assert {"get", "post"} <= set(document["paths"]["/records"])
    assert {"get", "put", "patch", "delete"} <= set(document["paths"]["/records/{email}/{id}"])
    refs = json.dumps(document, default=str)
    for name in ("Record", "RecordFields", "RecordPatch", "RecordPage", "Problem"):
        assert f"#/components/schemas/{name}" in refs and name in schemas


def test_aws_documented_sample_event_is_understood(api):
    # AWS's own sample event, verbatim: a GET on a path this API does not serve.
    event = json.loads(SAMPLE.read_text())
    reply = api.send(event)
    assert reply.status == 404
    assert reply.json()["detail"] == "nothing is at /my/path"
    # The same event, pointed at a route.
    event.update(path="/health", resource="/{proxy+}", pathParameters={"proxy": "health"})
    assert api.send(event).status == 200


def test_unexpected_errors_leak_nothing(api, aws, table):
    aws.delete_table(TableName=table["TableName"])
    try:
        reply = api.get("/records")
    finally:
        aws.create_table(**table)
    assert reply.status == 500
    assert reply.headers["Content-Type"] == "application/problem+json"
    for secret in ("Traceback", "ResourceNotFound", table["TableName"], "botocore", ".py"):
        assert secret not in reply.body


def test_events_without_headers_are_answered(api):
    # API Gateway's console test invocations send null headers and a bare request context.
    event = rest_event("GET", "/records")
    event.update(headers=None, multiValueHeaders=None, requestContext={})
    assert api.send(event).status == 200
    event = rest_event("POST", "/records", body='{"email": "a@example.com", "name": "A"}')
    event.update(headers=None, multiValueHeaders=None)
    assert api.send(event).status == 415
