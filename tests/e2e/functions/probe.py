"""Test-only Lambda handlers: echo what they receive, or misbehave on request."""

import base64
import json
import os
import threading
import time

_in_flight = 0
_most_in_flight = 0
_lock = threading.Lock()


def echo(event, context):
    """Return the event, the context and the environment the function saw."""
    global _in_flight, _most_in_flight
    with _lock:
        _in_flight += 1
        _most_in_flight = max(_most_in_flight, _in_flight)
    try:
        time.sleep(float((event.get("queryStringParameters") or {}).get("hold", 0)))
        body = {
            "event": event,
            "context": {
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "remaining_ms": context.get_remaining_time_in_millis(),
                "invoked_function_arn": context.invoked_function_arn,
            },
            "environment": dict(os.environ),
            "most_in_flight": _most_in_flight,
        }
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
    finally:
        with _lock:
            _in_flight -= 1


def behave(event, context):
    """Misbehave as the path says: raise, sleep, garbage, huge, cookies, binary, status."""
    what = event["pathParameters"]["what"]
    query = event.get("queryStringParameters") or {}
    if what == "raise":
        raise RuntimeError("the probe was asked to fail")
    if what == "sleep":
        time.sleep(float(query.get("seconds", "2")))
        return {"statusCode": 200, "body": "woke up"}
    if what == "garbage":
        return {"statusCode": "teapot", "body": {"not": "a string"}}
    if what == "not-a-dict":
        return "hello"
    if what == "huge":
        return {"statusCode": 200, "body": "x" * (6 * 1024 * 1024 + 1)}
    if what == "cookies":
        return {
            "statusCode": 200,
            "headers": {"X-Single": "one", "Set-Cookie": "ignored=1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "",
        }
    if what == "binary":
        data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(data[::-1]).decode(),
            "isBase64Encoded": True,
        }
    if what == "write-forever":
        import boto3

        client = boto3.client("dynamodb")
        number = 0
        while True:  # until the function's Timeout stops it
            number += 1
            client.put_item(TableName="ItemsTable", Item={"pk": {"S": "forever"}, "id": {"N": str(number)}})
    if what == "unavailable":
        return {"statusCode": 503, "headers": {"Retry-After": "2"}, "body": '{"title": "busy"}'}
    return {"statusCode": 200, "body": what}


def authorize(event, context):
    """A Lambda authorizer: the token (or the `ticket` query value) says what to answer."""
    verdict = event.get("authorizationToken") or (event.get("queryStringParameters") or {}).get("ticket")
    if verdict == "unauthorized":
        raise Exception("Unauthorized")  # API Gateway's convention for a 401
    if verdict not in ("allow", "deny", "elsewhere"):
        return "not a policy"
    resource = "arn:aws:execute-api:*:*:*/*/GET/nowhere" if verdict == "elsewhere" else event["methodArn"]
    verdict = "allow" if verdict == "elsewhere" else verdict
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": verdict.title(), "Resource": resource}],
        },
        "context": {"team": "blue", "type": event["type"]},
    }
