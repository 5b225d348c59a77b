"""HTTP APIs read from a template: routes, payload 2.0, answers, and the JWT authorizer's checks."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from serverless_local.http import HttpRequest
from serverless_local.services.http_api.authorizers import JwtAuthorizer
from serverless_local.services.http_api.gateway import HttpGateway, read_http_apis, response_v2
from serverless_local.services.lambda_.invocation import Success
from serverless_local.stack import LocalTemplate

TEMPLATE = """
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: true
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            JwtConfiguration: {issuer: "https://issuer.example", audience: [client-1]}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Events:
        Item: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: GET}}
        Any: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/items/{proxy+}", Method: ANY}}
        Literal:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /items/new, Method: GET, Auth: {Authorizer: NONE}}
        Fallback: {Type: HttpApi}
"""


@pytest.fixture
def template(tmp_path: Path) -> LocalTemplate:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return LocalTemplate(tmp_path / "template.yaml")


def request(method: str, target: str, *headers: tuple[str, str], body: bytes = b"") -> HttpRequest:
    return HttpRequest(method, target, [("Host", "api.local"), *headers], body, "10.0.0.1", local_port=3000)


def test_routes_and_their_authorizers(template):
    apis, routes = read_http_apis(template)

    keys = {route.key: route.authorizer for route in routes}
    assert keys == {
        "GET /items/{id}": "Jwt",
        "ANY /items/{proxy+}": "Jwt",
        "GET /items/new": None,  # NONE opens a route of an API with a default authorizer
        "$default": None,  # without ApiId: the implicit API, which has no authorizer
    }
    assert apis["Api"].cors is not None and apis["Api"].cors.origins == ("*",)


def test_the_most_specific_route_wins_then_the_default(template):
    apis, routes = read_http_apis(template)
    gateway = HttpGateway(apis, routes, lambda *args: Success({}))

    def key(method: str, path: str) -> str:
        found = gateway.match(method, path)
        assert found is not None
        return found[0].key

    assert key("GET", "/items/new") == "GET /items/new"
    assert key("GET", "/items/42") == "GET /items/{id}"
    assert key("POST", "/items/42") == "ANY /items/{proxy+}"
    assert key("GET", "/items/a/b") == "ANY /items/{proxy+}"
    assert key("DELETE", "/elsewhere") == "$default"


def test_the_payload_2_event(template):
    apis, routes = read_http_apis(template)
    seen: list[Any] = []
    gateway = HttpGateway(apis, routes, lambda function, event, deadline: seen.append(event) or Success("ok"))
    gateway.authorizers["JWT"] = lambda *args: None
    reply = gateway.route(
        request(
            "POST",
            "/items/a%20b?x=1&x=2&y=",
            ("Cookie", "a=1; b=2"),
            ("X-Two", "1"),
            ("X-Two", "2"),
            ("Content-Type", "application/octet-stream"),
            body=b"\x00\x01",
        )
    )

    assert reply is not None and reply.status == 200
    event = seen[0]
    assert event["routeKey"] == "ANY /items/{proxy+}"
    assert event["rawPath"] == "/items/a%20b"
    assert event["pathParameters"] == {"proxy": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["headers"]["x-two"] == "1,2"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\x00\x01"
    assert event["requestContext"]["http"]["sourceIp"] == "10.0.0.1"


@pytest.mark.parametrize(
    ("result", "status", "body"),
    [
        ({"hello": "world"}, 200, b'{"hello": "world"}'),
        ("text", 200, b'"text"'),
        ({"statusCode": 201, "body": "made", "headers": {"a": "1"}}, 201, b"made"),
        ({"statusCode": 204}, 204, b""),
    ],
)
def test_an_answer_as_http_apis_read_it(result, status, body):
    response = response_v2(result)

    assert response is not None and (response.status, response.body) == (status, body)


def test_a_malformed_answer_is_refused():
    assert response_v2({"statusCode": 99}) is None
    assert response_v2({"statusCode": 200, "headers": {"a": ["list"]}}) is None


# -- the JWT authorizer ---------------------------------------------------------------------------------
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict[str, Any], kid: str = "k1") -> str:
    head = b64(json.dumps({"alg": "RS256", "kid": kid}).encode())
    body = b64(json.dumps(claims).encode())
    signature = KEY.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(signature)}"


class Pool:
    """A user pool's keys, as the Cognito service gives them to the authorizer."""

    def __init__(self) -> None:
        numbers = KEY.public_key().public_numbers()
        self.keys = {"k1": (numbers.n, numbers.e)}


def verify(claims: dict[str, Any], kid: str = "k1", audience: tuple[str, ...] = ("client-1",)) -> Any:
    authorizer = JwtAuthorizer(None, lambda issuer: Pool() if issuer == "https://issuer.example" else None)  # type: ignore[arg-type]
    return authorizer.verify(token(claims, kid), "https://issuer.example", list(audience))


#: Valid for a day: never expired by the time a test of a long run reads it.
VALID = {"iss": "https://issuer.example", "aud": "client-1", "exp": time.time() + 86400, "sub": "u1"}


def test_a_valid_id_token_or_access_token_passes():
    assert verify(VALID)["sub"] == "u1"
    access = {**VALID, "client_id": "client-1", "scope": "a b"}
    del access["aud"]
    assert verify(access)["scope"] == "a b"


@pytest.mark.parametrize(
    ("claims", "kid"),
    [
        ({**VALID, "exp": time.time() - 1}, "k1"),  # expired
        ({**VALID, "nbf": time.time() + 600}, "k1"),  # not yet valid
        ({**VALID, "aud": "someone-else"}, "k1"),
        ({**VALID, "iss": "https://other.example"}, "k1"),
        (VALID, "unknown-key"),
    ],
)
def test_a_token_it_cannot_trust_is_refused(claims, kid):
    assert verify(claims, kid) is None


def test_a_tampered_token_is_refused():
    head, _, signature = token(VALID).split(".")
    forged = b64(json.dumps({**VALID, "sub": "admin"}).encode())
    authorizer = JwtAuthorizer(None, lambda issuer: Pool())  # type: ignore[arg-type]

    assert authorizer.verify(f"{head}.{forged}.{signature}", "https://issuer.example", ["client-1"]) is None
