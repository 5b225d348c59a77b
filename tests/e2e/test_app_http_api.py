"""tests/apps/http-api: an HTTP API in front of functions, as API Gateway's HTTP APIs serve them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, aws_client, start_app

PASSWORD = "Correct-Horse-9-battery"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("http-api"), "http-api")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(app: Server) -> dict[str, str]:
    """An ID token and an access token of a user of the template's pool, from the endpoint."""
    cognito = aws_client(app.aws, "cognito-idp")
    pool = next(
        p["Id"] for p in cognito.list_user_pools(MaxResults=10)["UserPools"] if p["Name"] == "http-api-users"
    )
    client = cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=10)["UserPoolClients"][0]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="ann@example.com",
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="ann@example.com", Password=PASSWORD, Permanent=True
    )
    result = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {"id": result["IdToken"], "access": result["AccessToken"], "client": client, "pool": pool}


def event_of(reply: Any) -> dict[str, Any]:
    assert reply.status == 200, reply.body
    return json.loads(reply.body)  # type: ignore[no-any-return]


def test_a_public_route_gets_payload_2(app):
    reply = app.request(
        "POST",
        "/public/ann%20b?tag=a&tag=b&one=1",
        body={"x": 1},
        headers={"Cookie": "a=1; b=2", "X-Custom": "v"},
    )

    event = event_of(reply)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /public/{name}"
    assert event["rawPath"] == "/public/ann%20b"
    assert event["rawQueryString"] == "tag=a&tag=b&one=1"
    assert event["queryStringParameters"] == {"tag": "a,b", "one": "1"}
    assert event["pathParameters"] == {"name": "ann b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-custom"] == "v"
    assert json.loads(event["body"]) == {"x": 1} and event["isBase64Encoded"] is False
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"]) == ("POST", "/public/ann%20b")
    assert event["requestContext"]["stage"] == "$default"
    assert reply.headers["x-route"] == "ANY /public/{name}"
    assert reply.headers["Set-Cookie"] == "seen=yes; Path=/"


def test_a_plain_json_answer_is_a_200_json_body_and_a_failure_a_500(app):
    plain = app.request("GET", "/plain")
    assert (plain.status, plain.json(), plain.headers["Content-Type"]) == (
        200,
        {"hello": "world"},
        "application/json",
    )

    broken = app.request("GET", "/broken")
    assert (broken.status, broken.json()) == (500, {"message": "Internal Server Error"})


def test_no_route_is_404(app):
    reply = app.request("GET", "/nowhere")

    assert (reply.status, reply.json()) == (404, {"message": "Not Found"})


def test_the_jwt_authorizer_wants_a_valid_token_of_the_pool(app, tokens):
    assert app.request("GET", "/me").status == 401
    assert app.request("GET", "/me", headers={"Authorization": "Bearer not.a.token"}).status == 401
    forged = tokens["id"][:-4] + ("AAAA" if not tokens["id"].endswith("AAAA") else "BBBB")
    assert app.request("GET", "/me", headers={"Authorization": forged}).status == 401

    event = event_of(app.request("GET", "/me", headers={"Authorization": f"Bearer {tokens['id']}"}))
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["token_use"] == "id"
    assert claims["aud"] == tokens["client"]
    assert claims["iss"].endswith("/" + tokens["pool"])
    assert isinstance(claims["exp"], str)


def test_a_routes_scopes_need_an_access_token_that_has_one(app, tokens):
    with_id = app.request("GET", "/scoped", headers={"Authorization": tokens["id"]})
    assert (with_id.status, with_id.json()) == (403, {"message": "Forbidden"})

    event = event_of(app.request("GET", "/scoped", headers={"Authorization": tokens["access"]}))
    assert "aws.cognito.signin.user.admin" in event["requestContext"]["authorizer"]["jwt"]["scopes"]


def test_the_lambda_authorizer_lets_in_what_it_authorizes(app):
    assert app.request("GET", "/gated").status == 401  # no identity source
    assert app.request("GET", "/gated", headers={"X-Ticket": "closed"}).status == 403

    event = event_of(app.request("GET", "/gated", headers={"X-Ticket": "open"}))
    assert event["requestContext"]["authorizer"]["lambda"] == {"ticket": "open", "route": "GET /gated"}


def test_a_payload_1_route_gets_the_rest_shape(app):
    event = event_of(app.request("GET", "/legacy/a/b?x=1"))

    assert event["version"] == "1.0"
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/legacy/a/b"
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1"]}
    assert event["requestContext"]["routeKey"] == "GET /legacy/{proxy+}"


def test_cors_preflights_are_answered_and_responses_carry_the_origin(app):
    preflight = app.request(
        "OPTIONS",
        "/me",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert preflight.headers["Access-Control-Max-Age"] == "600"

    reply = app.request("GET", "/plain", headers={"Origin": "https://app.example.com"})
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = app.request("GET", "/plain", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
