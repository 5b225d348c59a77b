"""The local gateway without a server: routing precedence, events, proxy responses."""

from __future__ import annotations

import base64
import json

import pytest

from serverless_local.http import HttpRequest
from serverless_local.services.apigateway.gateway import Gateway, proxy_response
from serverless_local.services.lambda_.invocation import Success
from serverless_local.stack import ApiSpec, Route
from tests.support.stack import LocalStack


def echo(function, event, deadline):
    """A function that answers with what it received and which function it was."""
    return Success({"statusCode": 200, "body": json.dumps({"function": function, "event": event})})


def gateway(*routes):
    stack = LocalStack(
        tables={},
        ttl={},
        functions={},
        apis={"Api": ApiSpec("Api", "v1")},
        routes=[Route("Api", path, method, function) for path, method, function in routes],
        ignored=[],
    )
    return Gateway(stack, echo)


def send(gw, method, target, body=b"", headers=()):
    response = gw.handle(HttpRequest(method, target, list(headers), body, "192.0.2.1"))
    return response.status, json.loads(response.body)


@pytest.mark.parametrize(
    ("method", "target", "function"),
    [
        ("GET", "/records", "Exact"),
        ("POST", "/records", "AnyExact"),
        ("GET", "/records/7", "Param"),
        ("GET", "/records/7/more", "Greedy"),
        ("GET", "/v1/records/7", "Param"),
        ("DELETE", "/", "Root"),
    ],
)
def test_the_most_specific_resource_then_the_exact_method_wins(method, target, function):
    gw = gateway(
        ("/records", "GET", "Exact"),
        ("/records", "ANY", "AnyExact"),
        ("/records/{id}", "GET", "Param"),
        ("/{proxy+}", "ANY", "Greedy"),
        ("/", "ANY", "Root"),
    )

    status, body = send(gw, method, target)

    assert status == 200
    assert body["function"] == function


def test_a_method_the_resource_lacks_is_403_not_a_fallback():
    gw = gateway(("/records", "GET", "Exact"))

    status, body = send(gw, "POST", "/records")

    assert (status, body) == (403, {"message": "Missing Authentication Token"})


def test_the_event_of_a_request():
    gw = gateway(("/items/{owner}/{id}", "PUT", "F"))

    _, body = send(
        gw,
        "PUT",
        "/items/a%2Fb/1?x=1&x=2&y=%20",
        b"\xff\xfe",
        [("Host", "localhost:3000"), ("X-Forwarded-For", "10.0.0.1"), ("a", "1"), ("A", "2")],
    )
    event = body["event"]

    assert event["resource"] == "/items/{owner}/{id}"
    assert event["path"] == "/items/a%2Fb/1"
    assert event["pathParameters"] == {"owner": "a/b", "id": "1"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [" "]}
    assert event["queryStringParameters"] == {"x": "2", "y": " "}
    assert event["multiValueHeaders"]["a"] == ["1", "2"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1, 192.0.2.1"
    assert event["requestContext"]["path"] == "/v1/items/a%2Fb/1"
    assert event["requestContext"]["domainName"] == "localhost"
    # Bytes that are not UTF-8 cannot travel as a JSON string: base64, as for a binary media type.
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {"statusCode": 200, "extra": 1},
        {"statusCode": "two hundred"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "body": 5},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ],
)
def test_api_gateway_calls_these_responses_malformed(result):
    assert proxy_response(result) is None


def test_headers_and_multi_value_headers_merge_with_multi_value_winning():
    response = proxy_response(
        {
            "statusCode": "201",
            "headers": {"X-One": 1, "Set-Cookie": "ignored", "X-Flag": True},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )

    assert response is not None
    assert response.status == 201
    assert response.headers == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("X-One", "1"),
        ("X-Flag", "true"),
        ("Content-Type", "application/json"),
    ]
    assert response.body == b"\x00\x01"


def test_a_registered_authorizer_checks_each_route_that_names_one():
    from serverless_local.services.apigateway.gateway import UNAUTHORIZED, authorizer_kind
    from serverless_local.stack import RouteAuth

    stack = LocalStack(
        tables={},
        ttl={},
        functions={},
        apis={"Api": ApiSpec("Api", "v1", authorizers={"Users": {"UserPoolArn": "arn"}})},
        routes=[
            Route("Api", "/private", "GET", "F", RouteAuth(authorizer="Users")),
            Route("Api", "/open", "GET", "F"),
        ],
        ignored=[],
    )
    gw = Gateway(stack, echo)
    assert gw.unenforced() == ["Api: the COGNITO_USER_POOLS authorizer Users is not enforced locally"]
    seen = []

    def cognito(api, name, declared, request, event):
        seen.append((name, declared))
        token = dict(request.headers).get("Authorization")
        if token != "good":
            return UNAUTHORIZED
        event["requestContext"]["authorizer"] = {"claims": {"sub": "u1"}}
        return None

    gw.authorizers[authorizer_kind(stack.apis["Api"].authorizers["Users"])] = cognito

    assert send(gw, "GET", "/private") == (401, {"message": "Unauthorized"})
    status, body = send(gw, "GET", "/private", headers=[("Authorization", "good")])
    assert status == 200
    assert body["event"]["requestContext"]["authorizer"] == {"claims": {"sub": "u1"}}
    assert send(gw, "GET", "/open")[0] == 200
    assert seen == [("Users", {"UserPoolArn": "arn"})] * 2
    assert gw.unenforced() == []
