import json


def handle(event, context):
    """Says what reached it (only requests that passed validation do)."""
    return {"statusCode": 200, "body": json.dumps({"path": event["path"], "body": event["body"]})}
