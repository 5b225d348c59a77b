"""Queries on global secondary indexes (and on tables) at the local AWS endpoint answer exactly
what moto's own Query answers: the same writes go to the local server (its fast path) and to a
plain moto in this process, and randomized queries of every kind are compared page by page, before
and after writes that move items between index partitions, and after a restart (the journal
replayed)."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.e2e.conftest import aws_client, start_server

pytestmark = pytest.mark.runs_for(45)

TABLE = {
    "TableName": "Differential",
    "BillingMode": "PAY_PER_REQUEST",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "g", "AttributeType": "S"},
        {"AttributeName": "r", "AttributeType": "S"},
        {"AttributeName": "n", "AttributeType": "N"},
        {"AttributeName": "h", "AttributeType": "N"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_r",
            "KeySchema": [
                {"AttributeName": "g", "KeyType": "HASH"},
                {"AttributeName": "r", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "by_n",
            "KeySchema": [
                {"AttributeName": "g", "KeyType": "HASH"},
                {"AttributeName": "n", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        {
            "IndexName": "h_by_r",
            "KeySchema": [
                {"AttributeName": "h", "KeyType": "HASH"},
                {"AttributeName": "r", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]},
        },
        {
            "IndexName": "g_only",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
}
GROUPS = ["a", "b", "c"]
WORDS = ["ab", "abc", "abd", "b", "ba", "bb", "c", "ca", "", "zz"]


def _item(rng: random.Random, pk: str, sk: int) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"N": str(sk)}, "x": {"N": str(rng.randint(0, 9))}}
    if rng.random() < 0.85:  # sparse: some items are in no index
        item["g"] = {"S": rng.choice(GROUPS)}
    if rng.random() < 0.8:
        item["r"] = {"S": rng.choice([w for w in WORDS if w]) + rng.choice(["", "x", "y"])}  # ties
    if rng.random() < 0.8:
        item["n"] = {"N": str(rng.choice([-5, -1.5, 0, 1, 1, 2, 10, 10.25]))}
    if rng.random() < 0.5:
        item["h"] = {"N": str(rng.randint(1, 2))}
    item["other"] = {"S": "·" * rng.randint(0, 40)}
    return item


class Pair:
    """The local endpoint (fast path) and a plain moto (its own path), written alike."""

    def __init__(self, local: Any, reference: Any) -> None:
        self.local, self.reference = local, reference

    def both(self, operation: str, **request: Any) -> None:
        getattr(self.local, operation)(**request)
        getattr(self.reference, operation)(**request)

    def pages(self, request: dict[str, Any]) -> None:
        """Every page of `request` from both, compared as DynamoDB returns them."""
        start = None
        for _ in range(500):
            page = {**request, **({"ExclusiveStartKey": start} if start else {})}
            fast, slow = (self._answer(c, page) for c in (self.local, self.reference))
            assert fast == slow, page
            start = fast.get("LastEvaluatedKey")
            if not start:
                return
        raise AssertionError(f"no end of pages: {request}")

    @staticmethod
    def _answer(client: Any, request: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = client.query(**request)
        except client.exceptions.ClientError as error:
            return {"error": error.response["Error"]["Code"]}
        return {k: answer.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")}


def _random_query(rng: random.Random) -> dict[str, Any]:
    index = rng.choice(["by_r", "by_n", "h_by_r", "g_only", None])  # None: the table itself
    hash_name = {"h_by_r": "h", None: "pk"}.get(index, "g")
    hash_value = {
        "h": {"N": str(rng.randint(1, 3))},
        "pk": {"S": f"p{rng.randint(0, 5)}"},
        "g": {"S": rng.choice([*GROUPS, "none"])},
    }[hash_name]
    names, values = {"#h": hash_name}, {":h": hash_value}
    condition = "#h = :h"
    range_name = {"by_r": "r", "h_by_r": "r", "by_n": "n", None: "sk"}.get(index)
    if range_name and rng.random() < 0.8:
        names["#r"] = range_name
        kind = "S" if range_name == "r" else "N"

        def value() -> dict[str, str]:
            if kind == "S":
                return {"S": rng.choice([w for w in WORDS if w]) + rng.choice(["", "x"])}
            if range_name == "sk":
                return {"N": str(rng.randint(-1, 151))}
            return {"N": str(rng.choice([-3, -1.5, 0, 1, 2, 5, 10, 11]))}

        operator = rng.choice(
            ["=", "<", "<=", ">", ">=", "between", *(["begins_with"] if kind == "S" else [])]
        )
        values[":a"] = value()
        if operator == "between":
            values[":b"] = value()
            low, high = sorted(
                [values[":a"], values[":b"]], key=lambda v: v[kind] if kind == "S" else float(v[kind])
            )
            values[":a"], values[":b"] = low, high
            condition += " AND #r BETWEEN :a AND :b"
        elif operator == "begins_with":
            values[":a"] = {"S": rng.choice(["a", "ab", "b", "c", "z", "q"])}
            condition += " AND begins_with(#r, :a)"
        else:
            condition += f" AND #r {operator} :a"
    request: dict[str, Any] = {
        "TableName": TABLE["TableName"],
        **({"IndexName": index} if index else {}),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": rng.random() < 0.5,
    }
    limit = rng.choice([None, 1, 2, 3, 7, 25])
    if limit:
        request["Limit"] = limit
    if rng.random() < 0.3:  # Limit applies before the filter
        names["#x"] = "x"
        values[":x"] = {"N": str(rng.randint(0, 9))}
        request["FilterExpression"] = "#x > :x"
    if rng.random() < 0.2:
        names["#p"] = "pk"
        request["ProjectionExpression"] = "#p, sk"
    return request


def _writes(pair: Pair, rng: random.Random, keys: list[tuple[str, int]], count: int) -> None:
    """Puts, updates that move items between partitions or out of an index, deletes, batches and
    transactions, in random order."""
    name = TABLE["TableName"]
    for _ in range(count):
        pk, sk = rng.choice(keys)
        key = {"pk": {"S": pk}, "sk": {"N": str(sk)}}
        kind = rng.random()
        if kind < 0.3:
            pair.both("put_item", TableName=name, Item=_item(rng, pk, sk))
        elif kind < 0.55:
            pair.both(
                "update_item",
                TableName=name,
                Key=key,
                UpdateExpression="SET #g = :g, #n = :n",
                ExpressionAttributeNames={"#g": "g", "#n": "n"},
                ExpressionAttributeValues={
                    ":g": {"S": rng.choice(GROUPS)},
                    ":n": {"N": str(rng.randint(-2, 12))},
                },
            )
        elif kind < 0.65:
            attribute = rng.choice(["g", "r", "h"])
            pair.both(
                "update_item",
                TableName=name,
                Key=key,
                UpdateExpression="REMOVE #a",
                ExpressionAttributeNames={"#a": attribute},
            )
        elif kind < 0.75:
            pair.both("delete_item", TableName=name, Key=key)
        elif kind < 0.88:
            chosen = rng.sample(keys, 6)
            requests = [
                {"PutRequest": {"Item": _item(rng, p, s)}}
                if rng.random() < 0.6
                else {"DeleteRequest": {"Key": {"pk": {"S": p}, "sk": {"N": str(s)}}}}
                for p, s in chosen
            ]
            pair.both("batch_write_item", RequestItems={name: requests})
        else:
            first, second, third = rng.sample(keys, 3)
            pair.both(
                "transact_write_items",
                TransactItems=[
                    {"Put": {"TableName": name, "Item": _item(rng, *first)}},
                    {
                        "Delete": {
                            "TableName": name,
                            "Key": {"pk": {"S": second[0]}, "sk": {"N": str(second[1])}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {"pk": {"S": third[0]}, "sk": {"N": str(third[1])}},
                            "UpdateExpression": "SET #r = :r",
                            "ExpressionAttributeNames": {"#r": "r"},
                            "ExpressionAttributeValues": {":r": {"S": rng.choice(["ab", "b", "abx"])}},
                        }
                    },
                ],
            )


@pytest.fixture
def pair(tmp_path):
    server = start_server(tmp_path)
    servers = [server]
    with mock_aws():
        reference = boto3.client(
            "dynamodb", region_name="eu-west-1", aws_access_key_id="ref", aws_secret_access_key="x"
        )
        yield Pair(aws_client(server.aws, "dynamodb"), reference), servers, tmp_path
    servers[-1].stop()


def test_index_queries_answer_what_motos_own_query_answers(pair):
    both, servers, directory = pair
    rng = random.Random(12)
    both.both("create_table", **TABLE)
    keys = [(f"p{n % 5}", n) for n in range(150)]
    for pk, sk in keys:
        both.both("put_item", TableName=TABLE["TableName"], Item=_item(rng, pk, sk))

    for _ in range(4):
        for _ in range(60):
            both.pages(_random_query(rng))
        _writes(both, rng, keys, 80)

    servers[-1].stop()  # the same state again: the orders are rebuilt from the replayed journal
    servers.append(start_server(directory))
    both.local = aws_client(servers[-1].aws, "dynamodb")
    for _ in range(60):
        both.pages(_random_query(rng))
    _writes(both, rng, keys, 40)
    for _ in range(60):
        both.pages(_random_query(rng))
