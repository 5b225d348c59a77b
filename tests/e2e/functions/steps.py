"""Test-only Step Functions task handlers: compute, fail a few times, time out, write to S3."""

import os

import boto3

_failures = 0


class Throttled(Exception):
    """A named error a Retry can match (as a task reports unprocessed items)."""


def double(event, context):
    """Twice the number given."""
    return {"n": event["n"] * 2, "function": context.function_name, "variable": os.environ.get("ONLY_STEPS")}


def flaky(event, context):
    """Fail with Throttled `event["fail"]` times per warm instance, then answer."""
    global _failures
    if _failures < event.get("fail", 0):
        _failures += 1
        raise Throttled(f"attempt {_failures} throttled")
    _failures = 0
    return {**event, "attempts": event.get("fail", 0) + 1}


def linger(event, context):
    """Sleep past the function's Timeout."""
    import time

    time.sleep(event.get("seconds", 30))
    return event


def publish(event, context):
    """Write the event to the bucket of BUCKET and answer a presigned link to it."""
    s3 = boto3.client("s3")
    s3.put_object(
        Bucket=os.environ["BUCKET"], Key=event["key"], Body=event["body"].encode(), ContentType="text/csv"
    )
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": os.environ["BUCKET"], "Key": event["key"]}, ExpiresIn=300
    )
    return {"url": url}
