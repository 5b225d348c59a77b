"""Records each job it takes in the done table; a FIFO group's bodies are appended to one item, in the
order they arrive; a job with "fail" is reported as a batch item failure."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["DONE_TABLE"])


def handle(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        attributes = record["attributes"]
        if "MessageGroupId" in attributes:
            table.update_item(
                Key={"id": f"group-{attributes['MessageGroupId']}"},
                UpdateExpression="SET bodies = list_append(if_not_exists(bodies, :none), :body)",
                ExpressionAttributeValues={":none": [], ":body": [body["id"]]},
            )
            continue
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        table.put_item(
            Item={
                "id": body["id"],
                "receives": attributes["ApproximateReceiveCount"],
                "record": json.dumps(record),
            }
        )
    return {"batchItemFailures": failures}
