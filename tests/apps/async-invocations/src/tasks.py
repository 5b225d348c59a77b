"""Functions invoked asynchronously: each attempt is counted in the tries table."""

import os
import time

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TRIES_TABLE"])


def _attempt(event):
    answer = table.update_item(
        Key={"id": event["id"]},
        UpdateExpression="ADD tries :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["tries"])


def flaky(event, context):
    """Fails the first `failures` attempts, then answers."""
    tries = _attempt(event)
    if tries <= int(event.get("failures", 0)):
        raise RuntimeError(f"attempt {tries} failed")
    return {"id": event["id"], "tries": tries}


def doomed(event, context):
    _attempt(event)
    raise ValueError("this never works")


def slow(event, context):
    time.sleep(float(event.get("seconds", 1)))
    _attempt(event)
