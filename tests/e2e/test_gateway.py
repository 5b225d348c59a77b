"""The local API Gateway over HTTP: the events functions receive and API Gateway's own answers."""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import aws_client

SAMPLE = json.loads(
    (Path(__file__).resolve().parents[1] / "support" / "samples" / "aws_rest_proxy_event.json").read_text()
)


def raw_request(server, method, target, headers=(), body=b""):
    """Send exactly these header lines (repeats included) and this target, unencoded by any client."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    connection.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name, value)
    if body:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body or None)
    response = connection.getresponse()
    reply = response.status, response.getheaders(), response.read()
    connection.close()
    return reply


def echoed(server, method, target, headers=(), body=b""):
    status, _, data = raw_request(server, method, target, headers, body)
    assert status == 200, data
    return json.loads(data)


def test_the_event_has_every_field_of_aws_sample_with_the_same_types(probe_server):
    seen = echoed(
        probe_server,
        "GET",
        "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
        [("header1", "value1"), ("header2", "value1"), ("header2", "value2"), ("User-Agent", "probe")],
    )["event"]

    assert set(seen) == set(SAMPLE)
    # `authorizer` exists only behind an authorizer, `clientCert` only with mutual TLS.
    assert set(seen["requestContext"]) == set(SAMPLE["requestContext"]) - {"authorizer"}
    assert set(seen["requestContext"]["identity"]) == set(SAMPLE["requestContext"]["identity"]) - {
        "clientCert"
    }
    for name in ("resource", "path", "httpMethod", "multiValueQueryStringParameters", "pathParameters"):
        assert seen[name] == SAMPLE[name], name
    assert seen["multiValueHeaders"]["header1"] == ["value1"]
    assert seen["multiValueHeaders"]["header2"] == ["value1", "value2"]
    # A REST API puts the last value in the single-value maps (the sample, from an HTTP API, joins them).
    assert seen["headers"]["header2"] == "value2"
    assert seen["queryStringParameters"] == {"parameter1": "value2", "parameter2": "value"}
    context = seen["requestContext"]
    for name, value in SAMPLE["requestContext"].items():
        if name != "authorizer" and value is not None:
            assert isinstance(context[name], type(value)), name
    assert context["resourcePath"] == "/my/path"
    assert context["httpMethod"] == "GET"
    assert context["stage"] == "test"
    assert context["path"] == "/test/my/path"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "probe"
    assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])
    assert seen["stageVariables"] == {"color": "blue"}
    assert seen["body"] is None
    assert seen["isBase64Encoded"] is False


def test_path_stays_encoded_and_path_parameters_are_decoded(probe_server):
    seen = echoed(probe_server, "GET", "/echo/a%40b.com/x%20y%2Fz")["event"]

    assert seen["resource"] == "/echo/{proxy+}"
    assert seen["path"] == "/echo/a%40b.com/x%20y%2Fz"
    assert seen["requestContext"]["path"] == "/test/echo/a%40b.com/x%20y%2Fz"
    assert seen["pathParameters"] == {"proxy": "a@b.com/x y/z"}
    assert seen["queryStringParameters"] is None
    assert seen["multiValueQueryStringParameters"] is None


def test_named_path_parameters_and_the_optional_stage_prefix(probe_server):
    seen = echoed(probe_server, "POST", "/test/items/ann/item%201", body=b'{"a": 1}')["event"]

    assert seen["resource"] == "/items/{owner}/{item id}"
    assert seen["pathParameters"] == {"owner": "ann", "item id": "item 1"}
    assert seen["path"] == "/items/ann/item%201"
    assert seen["body"] == '{"a": 1}'


def test_query_values_are_percent_decoded_and_plus_is_kept(probe_server):
    seen = echoed(probe_server, "GET", "/echo/q?email=a%2Bb%40x.com&q=a+b&empty=")["event"]

    assert seen["queryStringParameters"] == {"email": "a+b@x.com", "q": "a+b", "empty": ""}


def test_context_and_environment_come_from_the_template(probe_server):
    reply = echoed(probe_server, "GET", "/echo/context")
    context, environment = reply["context"], reply["environment"]

    assert context["function_name"] == "EchoFunction"
    assert context["memory_limit_in_mb"] == 384
    assert 0 < context["remaining_ms"] <= 5000
    assert context["aws_request_id"] != reply["event"]["requestContext"]["requestId"]
    assert environment["TABLE_NAME"] == "ItemsTable"
    assert environment["TAGS_TABLE"] == "serverless-crud-local-tags"
    assert environment["FROM_GLOBALS"] == "global-value"
    assert environment["DOMAIN"] == "none"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "EchoFunction"
    # A dynamic reference to the template's secret is its value, generated as GenerateSecretString says
    # (the same the endpoint's Secrets Manager holds); a log group's ARN is the local group's.
    secret = aws_client(probe_server.aws, "secretsmanager").get_secret_value(SecretId="CursorSecret")
    assert environment["CURSOR_SECRET"] == secret["SecretString"]
    assert re.fullmatch(r"[A-Za-z0-9]{48}", environment["CURSOR_SECRET"])
    assert environment["LOG_GROUP_ARN"] == "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/probe:*"
    # A value only AWS can provide (an alarm is not emulated) gets a local stand-in, and the banner says so.
    assert re.fullmatch(r"[0-9a-f]{64}", environment["ALARM_ARN"])
    assert "ALARM_ARN" in probe_server.output()
    # The function's SDK reaches the one local AWS endpoint; nothing of the server's own environment leaks.
    assert environment["AWS_ENDPOINT_URL"] == probe_server.aws
    assert environment["AWS_CONFIG_FILE"] == "/dev/null"
    assert "HOME" not in environment


def test_binary_media_types_arrive_base64_and_binary_responses_leave_raw(probe_server):
    data = bytes(range(256))
    status, _headers, body = raw_request(
        probe_server, "POST", "/behave/binary", [("Content-Type", "application/octet-stream")], data
    )
    assert status == 200
    assert body == data[::-1]

    seen = echoed(probe_server, "POST", "/echo/png", [("Content-Type", "image/png")], b"\x89PNG")["event"]
    assert seen["isBase64Encoded"] is True
    assert base64.b64decode(seen["body"]) == b"\x89PNG"


def test_multi_value_response_headers_become_repeated_header_lines(probe_server):
    status, headers, _ = raw_request(probe_server, "GET", "/behave/cookies")

    assert status == 200
    assert [v for k, v in headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("X-Single", "one") in headers


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("/behave/raise", 502, "Internal server error"),
        ("/behave/garbage", 502, "Internal server error"),
        ("/behave/not-a-dict", 502, "Internal server error"),
        ("/behave/huge", 502, "Internal server error"),
        ("/behave/sleep?seconds=1.3", 502, "Internal server error"),
        ("/patient/sleep?seconds=3.3", 504, "Endpoint request timed out"),
        ("/broken", 502, "Internal server error"),
        ("/nothing/here", 403, "Missing Authentication Token"),
        ("/my/path/too/deep", 403, "Missing Authentication Token"),
    ],
)
def test_api_gateway_answers_for_itself(probe_server, target, status, message):
    reply = probe_server.request("GET", target)

    assert reply.status == status, reply.body
    assert reply.json() == {"message": message}


def test_no_route_carries_the_gateway_response_headers(probe_server):
    reply = probe_server.request("DELETE", "/my/path")

    assert reply.status == 403
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_a_function_error_is_logged_to_the_console(probe_server):
    probe_server.request("GET", "/behave/raise")

    assert "the probe was asked to fail" in probe_server.output()


def test_the_functions_own_503_passes_through(probe_server):
    reply = probe_server.request("GET", "/behave/unavailable")

    assert reply.status == 503
    assert reply.headers["Retry-After"] == "2"


def test_payload_over_10_mb_is_413(probe_server):
    reply = probe_server.request("POST", "/echo/big", b"x" * (10 * 1024 * 1024 + 1))

    assert reply.status == 413
    assert reply.json() == {"message": "Request Too Long"}


def test_payload_over_lambdas_6_mb_is_413(probe_server):
    reply = probe_server.request("POST", "/echo/big", b"x" * (6 * 1024 * 1024 + 1))

    assert reply.status == 413


def test_cors_preflight_is_answered_by_the_gateway(probe_server):
    reply = probe_server.request("OPTIONS", "/echo/anything", headers={"Origin": "https://app.example.com"})

    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert reply.headers["Access-Control-Allow-Headers"] == "Content-Type,If-Match"
    assert reply.headers["Access-Control-Max-Age"] == "600"
    assert "PATCH" in reply.headers["Access-Control-Allow-Methods"]


def test_each_instance_handles_one_event_at_a_time_and_every_client_is_answered(probe_server):
    def call(_):
        return probe_server.request("GET", "/echo/concurrent?hold=0.02")

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(call, range(16)))

    assert [r.status for r in replies] == [200] * 16
    assert max(r.json()["most_in_flight"] for r in replies) == 1
    assert len({r.json()["event"]["requestContext"]["requestId"] for r in replies}) == 16


def test_events_waiting_for_the_instance_are_served_in_the_order_they_came(probe_server):
    finished: list[int] = []

    def call(number):
        reply = probe_server.request("GET", f"/echo/queued-{number}?hold=0.35")
        assert reply.status == 200
        finished.append(number)

    threads = [threading.Thread(target=call, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
        time.sleep(0.2)  # each arrives while the one before it holds the one instance
    for thread in threads:
        thread.join()

    assert finished == list(range(6))


def test_each_function_has_its_own_environment_and_modules(probe_server):
    echo = echoed(probe_server, "GET", "/echo/env")
    other = echoed(probe_server, "GET", "/other/env")

    assert echo["environment"]["TABLE_NAME"] == "ItemsTable"
    assert "ONLY_OTHER" not in echo["environment"]
    assert echo["environment"]["FROM_GLOBALS"] == "global-value"
    assert other["environment"]["ONLY_OTHER"] == "other-value"
    assert other["environment"]["FROM_GLOBALS"] == "overridden"
    assert "TABLE_NAME" not in other["environment"]
    assert other["context"]["function_name"] == "OtherFunction"
    assert other["environment"]["AWS_LAMBDA_FUNCTION_NAME"] == "OtherFunction"


def test_a_timed_out_instance_is_replaced_by_a_fresh_one(probe_server):
    assert probe_server.request("GET", "/behave/sleep?seconds=1.3").status == 502
    assert "Task timed out after 1.00 seconds" in probe_server.output()

    assert probe_server.request("GET", "/behave/after-a-timeout").body == b"after-a-timeout"


def test_the_templates_functions_are_invoked_at_the_aws_endpoint(probe_server):
    client = aws_client(probe_server.aws, "lambda")
    names = {f["FunctionName"] for f in client.list_functions()["Functions"]}
    assert {"EchoFunction", "BehaviourFunction", "OtherFunction"} <= names

    answer = client.invoke(FunctionName="EchoFunction", Payload=json.dumps({"queryStringParameters": None}))
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer
    assert json.loads(result["body"])["event"] == {"queryStringParameters": None}

    failed = client.invoke(
        FunctionName="BehaviourFunction", Payload=json.dumps({"pathParameters": {"what": "raise"}})
    )
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "the probe was asked to fail")


def test_a_state_machine_task_runs_the_templates_function_and_catches_its_error(probe_server):
    import time

    states = aws_client(probe_server.aws, "stepfunctions")
    task = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:BehaviourFunction",
        "Catch": [{"ErrorEquals": ["RuntimeError"], "Next": "Caught"}],
        "End": True,
    }
    definition = {"StartAt": "Call", "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}}}
    machine = states.create_state_machine(
        name="probe", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/probe"
    )["stateMachineArn"]

    def run(what):
        execution = states.start_execution(
            stateMachineArn=machine, name=what, input=json.dumps({"pathParameters": {"what": what}})
        )["executionArn"]
        deadline = time.monotonic() + 30
        while (described := states.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return described["status"], json.loads(described["output"])

    assert run("hello") == ("SUCCEEDED", {"statusCode": 200, "body": "hello"})
    status, caught = run("raise")
    assert status == "SUCCEEDED"
    assert caught["Error"] == "RuntimeError"
    assert json.loads(caught["Cause"])["errorMessage"] == "the probe was asked to fail"


@pytest.mark.parametrize(
    ("token", "status", "body", "error_type"),
    [
        (None, 401, {"message": "Unauthorized"}, "UnauthorizedException"),
        ("Not Valid!", 401, {"message": "Unauthorized"}, "UnauthorizedException"),
        ("unauthorized", 401, {"message": "Unauthorized"}, "UnauthorizedException"),
        (
            "deny",
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
            "AccessDeniedException",
        ),
        (
            "elsewhere",
            403,
            {"Message": "User is not authorized to access this resource"},
            "AccessDeniedException",
        ),
        ("garbage", 500, {"message": None}, "AuthorizerConfigurationException"),
    ],
)
def test_a_lambda_authorizer_refuses_as_api_gateway_does(probe_server, token, status, body, error_type):
    headers = {"X-Token": token} if token else {}

    reply = probe_server.request("GET", "/guarded/thing", headers=headers)

    assert reply.status == status, reply.body
    assert json.loads(reply.body) == body
    assert reply.headers["x-amzn-ErrorType"] == error_type
    # The probe API declares DEFAULT_4XX headers only.
    expected_origin = "https://app.example.com" if status < 500 else None
    assert reply.headers["Access-Control-Allow-Origin"] == expected_origin


def test_a_lambda_authorizers_principal_and_context_reach_the_function(probe_server):
    by_token = echoed(probe_server, "GET", "/guarded/thing", [("X-Token", "allow")])["event"]
    by_request = echoed(probe_server, "GET", "/ticketed/thing?ticket=allow")["event"]

    for event, kind in ((by_token, "TOKEN"), (by_request, "REQUEST")):
        authorizer = event["requestContext"]["authorizer"]
        assert (authorizer["principalId"], authorizer["team"], authorizer["type"]) == ("user-1", "blue", kind)
        assert isinstance(authorizer["integrationLatency"], int)
    assert probe_server.request("GET", "/ticketed/thing").status == 401  # its identity source is missing
