"""The baseline: a minimal raw boto3 Lambda handler making the same DynamoDB calls as the app.

No framework, no validation, no logging, no metrics: what a hand-written function does at the least.
It makes the very same requests as the app (GetItem with ConsistentRead, conditional PutItem,
Query with Limit) and returns `json.dumps` of what DynamoDB answered. This module imports nothing
but the standard library and boto3, so the cold-start benchmark can run it as a Lambda would.
"""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import boto3

TABLE = os.environ["TABLE_NAME"]
PK = os.environ.get("PARTITION_KEY", "email")
SK = os.environ.get("SORT_KEY", "id")

client = boto3.client("dynamodb")


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    return {"S": str(value)}


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """GET /records/{email}/{id}, POST /records and GET /records?email=, nothing else."""
    method = event["httpMethod"]
    parts = unquote(event["path"]).strip("/").split("/")
    if method == "GET" and len(parts) == 3:
        key = {PK: {"S": parts[1]}, SK: {"N": parts[2]}}
        found = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
        return _response(200, found) if found else _response(404, {"message": "not found"})
    if method == "POST":
        body = event["body"]
        record = json.loads(base64.b64decode(body) if event.get("isBase64Encoded") else body)
        now = datetime.now(UTC).isoformat()
        record.update(version=1, created_at=now, updated_at=now)
        record.setdefault("id", time.time_ns() // 1000)
        item: dict[str, Any] = {
            PK if k == "email" else SK if k == "id" else k: _attribute(v) for k, v in record.items()
        }
        client.put_item(
            TableName=TABLE,
            Item=item,
            ConditionExpression="attribute_not_exists(#n0)",
            ExpressionAttributeNames={"#n0": PK},
        )
        return _response(201, record)
    if method == "GET":
        query = event["queryStringParameters"] or {}
        page = client.query(
            TableName=TABLE,
            Limit=int(query.get("limit", 25)),
            KeyConditionExpression="#n0 = :v0",
            ExpressionAttributeNames={"#n0": PK},
            ExpressionAttributeValues={":v0": {"S": query["email"]}},
        )
        return _response(200, {"items": page["Items"], "next_cursor": None})
    return _response(404, {"message": "not found"})
