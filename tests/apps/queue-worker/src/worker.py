import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["DONE_TABLE"])


def handle(event, context):
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        table.put_item(
            Item={
                "id": body["id"],
                "source": record["eventSourceARN"].rsplit(":", 1)[-1],
                "group": record["attributes"].get("MessageGroupId", "-"),
                "receives": record["attributes"]["ApproximateReceiveCount"],
            }
        )
    return {"batchItemFailures": failures}
