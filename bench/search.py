"""Section "search": DynamoDB requests and items read per returned page, for each access pattern of
docs/access-patterns.md, with a partition of 10,000 records and a table of 20,000 (moto in-process,
through the handler), and the p50 of a search page.

"Items to the function" is DynamoDB's Count summed over a page's requests (what crosses the wire
and is deserialised); "evaluated" is its ScannedCount (what a filter looked at: read capacity).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Any

from bench import aws
from bench.report import Check, Options, Table
from bench.warm import app_handler, quiet_stdout

TITLE = "Search, filters and sorts: DynamoDB reads per page"
OWNER = "big@example.com"
OTHERS = ["o1@example.com", "o2@example.com", "o3@example.com"]
PER_OWNER = 10_000
PER_OTHER = 3_334
WORDS = ["alpha", "beta", "gamma", "delta", "rare"]
TAGS = ["vip", "north", "south", "lead"]
LIMIT = "25"

#: (label, query, target kind): "sorted" must read exactly what it returns, "text" at most twice.
PATTERNS: list[tuple[str, dict[str, str], str | None]] = [
    ("owner, sort=id", {"email": OWNER}, "sorted"),
    ("owner, sort=name", {"email": OWNER, "sort": "name"}, "sorted"),
    ("owner, sort=-updated_at", {"email": OWNER, "sort": "-updated_at"}, "sorted"),
    ("owner, sort=amount", {"email": OWNER, "sort": "amount"}, "sorted"),
    ("owner, q (1 in 4 match)", {"email": OWNER, "q": "alpha"}, "text"),
    ("owner, q (every record)", {"email": OWNER, "q": "record"}, "text"),
    ("owner, q (1 in 50)", {"email": OWNER, "q": "rare"}, "text"),
    ("owner, q + tag + sort=name", {"email": OWNER, "q": "beta", "tag": "vip", "sort": "name"}, "text"),
    ("owner, active=false", {"email": OWNER, "active": "false"}, None),
    ("all, sort=name (4 shards)", {"sort": "name"}, None),
    ("all, sort=-amount (4 shards)", {"sort": "-amount"}, None),
    ("all, q=alpha (Scan)", {"q": "alpha"}, None),
    ("all, q=rare + sort=updated_at", {"q": "rare", "sort": "updated_at"}, None),
]


def _records() -> list[dict[str, Any]]:
    rng = random.Random(7)
    records = []
    for email, count in [(OWNER, PER_OWNER), *((o, PER_OTHER) for o in OTHERS)]:
        for n in range(count):
            words = ["record", rng.choice(WORDS[:4])] + (["rare"] if n % 50 == 0 else [])
            stamp = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00.{n % 1000:03d}Z"
            records.append(
                {
                    "email": email,
                    "id": 10_000 + n,
                    "name": f"Név {rng.randint(0, 99_999):05d}",
                    "notes": " ".join(words),
                    "tags": rng.sample(TAGS, 2),
                    "amount": rng.randint(-(10**6), 10**6) if n % 10 else None,
                    "active": n % 3 != 0,
                    "version": 1,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
    return records


def _seed(client: Any) -> None:
    for definition in aws.function().tables.values():
        client.create_table(**definition)
    _write(client, _records())


def _write(client: Any, records: list[dict[str, Any]]) -> None:
    """The records, through the app's own record-to-item mapping, 25 to a BatchWriteItem."""
    from serverless_crud import settings
    from serverless_crud.dal.repository import DynamoRecordRepository

    table = aws.function().environment["TABLE_NAME"]
    repository = DynamoRecordRepository(client, settings.load(aws.environment()))
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": repository.item_of(r)}} for r in records[start : start + 25]]
        while batch:
            left = client.batch_write_item(RequestItems={table: batch}).get("UnprocessedItems", {})
            batch = left.get(table, [])


class _Reads:
    """DynamoDB requests of one page, with the Count and ScannedCount of each answer."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.count = self.scanned = 0
        client.meta.events.register("after-call.dynamodb", self._answer)

    def _answer(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.operations.append(model.name)
        self.count += int(parsed.get("Count", 0))
        self.scanned += int(parsed.get("ScannedCount", 0))

    def reset(self) -> None:
        self.operations, self.count, self.scanned = [], 0, 0


def run(options: Options) -> list[Table]:
    """Reads per page of every pattern (first and second page), and the p50 of a search page."""
    import boto3
    from moto import mock_aws

    aws.apply_environment()
    with mock_aws(), quiet_stdout():
        _seed(boto3.client("dynamodb"))
        handler, client = app_handler()
        reads = _Reads(client)
        table = Table(
            title=f"Reads per page of {LIMIT} (owner: {PER_OWNER:,} records; table: "
            f"{PER_OWNER + PER_OTHER * len(OTHERS):,})",
            columns=["pattern", "page", "requests", "operations", "returned", "to function", "evaluated"],
            notes=[
                "to function = items DynamoDB returned (Count); evaluated = items it read (ScannedCount)",
                "targets: within an owner, sorted listings read what they return; text search at most 2x",
            ],
        )
        for label, query, target in PATTERNS:
            cursor = None
            for page_number in (1, 2):
                reads.reset()
                page_query = {**query, "limit": LIMIT, **({"cursor": cursor} if cursor else {})}
                response = handler(aws.api_event("GET", "/records", query=page_query), aws.lambda_context())
                page = json.loads(response["body"])
                returned = len(page["items"])
                kinds = ", ".join(f"{reads.operations.count(k)} {k}" for k in sorted(set(reads.operations)))
                table.rows.append(
                    [
                        label,
                        str(page_number),
                        str(len(reads.operations)),
                        kinds,
                        str(returned),
                        str(reads.count),
                        str(reads.scanned),
                    ]
                )
                if target and returned:
                    limit = 1.0 if target == "sorted" else 2.0
                    table.checks.append(
                        Check(
                            f"{label}, page {page_number}: to function / returned",
                            reads.count / returned,
                            limit,
                        )
                    )
                cursor = page["next_cursor"]
                if not cursor:
                    break
    latency = _p50_locally(5 if options.cold_repetitions < 10 else 50)
    timing = Table(
        title=f"Search page latency through the local server (`serverless-crud serve`), {PER_OWNER:,} "
        "records in the owner's partition",
        columns=["pattern", "p50 ms", "p90 ms"],
        rows=[[label, f"{p50:.1f}", f"{p90:.1f}"] for label, (p50, p90) in latency.items()],
        notes=["HTTP on a keep-alive connection, the function in its worker, the embedded DynamoDB"],
    )
    return [table, timing]


LATENCY_PATTERNS = [
    ("owner, q=alpha", {"email": OWNER, "q": "alpha"}),
    ("owner, q=rare (1 in 50)", {"email": OWNER, "q": "rare"}),
    ("owner, q=beta + tag=vip + sort=name", {"email": OWNER, "q": "beta", "tag": "vip", "sort": "name"}),
    ("owner, sort=name", {"email": OWNER, "sort": "name"}),
    ("owner, sort=-updated_at", {"email": OWNER, "sort": "-updated_at"}),
    ("owner, sort=-amount", {"email": OWNER, "sort": "-amount"}),
    ("all, sort=name (4 shards)", {"sort": "name"}),
]


def _p50_locally(repetitions: int) -> dict[str, tuple[float, float]]:
    """p50 and p90 of a first page of each pattern, over HTTP against the local server."""
    import http.client
    import tempfile
    from pathlib import Path
    from urllib.parse import urlencode

    import boto3

    from bench.local_runtime import AWS, _start, _stop

    figures = {}
    with tempfile.TemporaryDirectory() as directory:
        process, log, port, _, _ = _start(Path(directory) / "state", "--no-fsync")
        try:
            endpoint = AWS.search(log.read_text())
            assert endpoint is not None
            client = boto3.client(
                "dynamodb",
                endpoint_url=endpoint.group(1),
                region_name=aws.REGION,
                aws_access_key_id="bench",
                aws_secret_access_key="bench",  # noqa: S106 (the local endpoint takes any)
            )
            _write(client, [r for r in _records() if r["email"] == OWNER])
            connection = http.client.HTTPConnection("127.0.0.1", port)
            for label, query in LATENCY_PATTERNS:
                samples = []
                for _ in range(repetitions + 3):
                    started = time.perf_counter()
                    connection.request("GET", "/records?" + urlencode({**query, "limit": LIMIT}))
                    response = connection.getresponse()
                    response.read()
                    assert response.status == 200
                    samples.append((time.perf_counter() - started) * 1000)
                samples = sorted(samples[3:])  # after the warm-up
                figures[label] = (statistics.median(samples), samples[max(0, int(len(samples) * 0.9) - 1)])
            connection.close()
        finally:
            _stop(process)
    return figures
