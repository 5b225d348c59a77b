import json
import os

import boto3

audit_table = boto3.resource("dynamodb").Table(os.environ["AUDIT_TABLE"])


def audit(event, context):
    """One audit item per change; a note whose text is "poison" fails the batch, "retry-me" is
    reported as a batch item failure the first time it is seen."""
    failures = []
    for record in event["Records"]:
        change = record["dynamodb"]
        new = change.get("NewImage", {})
        text = new.get("text", {}).get("S", "")
        if text == "poison":
            raise ValueError("a poison note")
        sequence = change["SequenceNumber"]
        if text == "retry-me" and not audit_table.get_item(Key={"id": f"seen-{sequence}"}).get("Item"):
            audit_table.put_item(Item={"id": f"seen-{sequence}"})
            failures.append({"itemIdentifier": sequence})
            continue
        audit_table.put_item(
            Item={
                "id": f"{record['eventName']}-{change['Keys']['id']['S']}-{sequence}",
                "record": json.dumps(record),
                "batch": len(event["Records"]),
            }
        )
    return {"batchItemFailures": failures}


def flagged(event, context):
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["id"]["S"]
        audit_table.put_item(Item={"id": f"flagged-{key}-{record['dynamodb']['SequenceNumber']}"})


def view(event, context):
    """Keep each record as it came, by its table and event name."""
    for record in event["Records"]:
        table = record["eventSourceARN"].split(":table/", 1)[1].split("/", 1)[0]
        audit_table.put_item(Item={"id": f"{table}-{record['eventName']}", "record": json.dumps(record)})
