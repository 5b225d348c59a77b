import json
import os
import uuid

import boto3

table = boto3.resource("dynamodb").Table(os.environ["SEEN_TABLE"])


def record(event, context):
    """Keep what arrived: its kind and the event itself."""
    if "Records" in event:
        source = event["Records"][0].get("eventSource") or event["Records"][0].get("EventSource")
    else:
        source = event.get("source") or event.get("kind") or "input"
    print(f"received {source}")
    table.put_item(Item={"id": str(uuid.uuid4()), "source": source, "event": json.dumps(event)})
