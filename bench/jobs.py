"""Section "jobs": a 10,000-row import through the local runtime's own state machine, against a
direct BatchWriteItem loop of the same items into the same embedded table in the same run (the
floor), and the DynamoDB requests per imported row (counted at the embedded DynamoDB's one entry
point). The floor's items come from the app's record-to-item mapping, as the import's do: with the
derived attributes every search index holds (a bare item skips the indexes, a cost the import cannot
skip; its loop is shown for scale)."""

from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import Check, Options, Table

TITLE = "Jobs: bulk import on Step Functions (local runtime)"
ROOT = Path(__file__).resolve().parents[1]
ROWS = 10_000
#: The import's rows per second must be at least half the direct loop's: its time at most 2x.
TARGET_RATIO = 2.0


def _csv(rows: int, owner: str) -> bytes:
    lines = ["email,id,name,amount,tags"]
    lines += [f"{owner}{n % 50}@example.com,{n},Row {n},{n}.25,a|b" for n in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def _post(url: str, body: bytes, media: str) -> str:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": media})  # noqa: S310 (the local server)
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return str(response.headers["Location"])


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (the local server)
        job: dict[str, Any] = json.loads(response.read())
        return job


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 (the local AWS accepts any)
    )


def _records(rows: int, owner: str) -> list[dict[str, Any]]:
    """The records an import of `_csv(rows, owner)` writes (its values, version, stamps and mark)."""
    from decimal import Decimal

    now = "2026-01-01T00:00:00.000Z"
    return [
        {
            "email": f"{owner}{n % 50}@example.com",
            "id": n,
            "name": f"Row {n}",
            "amount": Decimal(f"{n}.25"),
            "tags": ["a", "b"],
            "active": True,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "import_row": f"direct:{n}",
        }
        for n in range(1, rows + 1)
    ]


def _app_items(endpoint: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items the app stores for `records` (its one record-to-item mapping)."""
    from bench import aws
    from serverless_crud import settings
    from serverless_crud.dal.repository import DynamoRecordRepository

    repository = DynamoRecordRepository(_client(endpoint), settings.load(aws.environment()))
    return [repository.item_of(record) for record in records]


def _bare_items(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same records as items without derived attributes (no index holds them)."""
    from boto3.dynamodb.types import TypeSerializer

    serialise = TypeSerializer().serialize
    return [{k: serialise(v) for k, v in record.items()} for record in records]


def _direct_loop(endpoint: str, table: str, items: list[dict[str, Any]]) -> float:
    """The floor: BatchWriteItem of 25 items at a time, from one client, until all are written."""
    client = _client(endpoint)
    began = time.perf_counter()
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        while pending:
            answer = client.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
    return time.perf_counter() - began


def run(options: Options | None = None) -> list[Table]:
    """Start the local runtime in this process, import, then run the floor against the same table."""
    from moto.dynamodb.responses import DynamoHandler

    from serverless_local.options import ServeOptions
    from serverless_local.server import LocalServer

    rows = 2_000 if options is not None and options.cold_repetitions < 10 else ROWS
    state = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    server = LocalServer(
        ServeOptions(
            template=ROOT / "template.yaml",
            port=0,
            state_dir=state,
            sync=False,
            # Lambda runs the Map's 4 chunks at once; the local default is one warm instance.
            concurrency=4,
            parameter_overrides={"MaxBodyBytes": "4000000", "AuthMode": "none"},
        )
    )
    server.start()
    counted: Counter[str] = Counter()
    counting = [False]

    def count(handler: Any, action: str, params: dict[str, Any]) -> None:
        if counting[0]:
            counted[action] += 1

    try:
        assert server.aws is not None
        # Counted after moto's action (successful requests; reads included: a read-only hook).
        server.aws.on_action(DynamoHandler, threading.RLock(), count)
        data = _csv(rows, "bench")
        counting[0] = True
        began = time.perf_counter()
        location = _post(f"{server.url}/imports", data, "text/csv")
        while (job := _get(server.url + location))["status"] not in ("succeeded", "failed"):
            time.sleep(0.25)  # as a client polls: a job is not a busy loop
        imported = time.perf_counter() - began
        counting[0] = False
        if job["status"] != "succeeded" or job["counts"]["written"] != rows:
            raise RuntimeError(f"the import did not write every row: {job}")
        direct = _direct_loop(
            server.endpoint, "RecordsTable", _app_items(server.endpoint, _records(rows, "direct"))
        )
        bare = _direct_loop(server.endpoint, "RecordsTable", _bare_items(_records(rows, "bare")))
    finally:
        server.stop()
    requests = sum(counted.values())
    ratio = imported / direct
    table = Table(
        f"{rows:,}-row CSV import (chunks of 100, Map concurrency 4) vs a direct BatchWriteItem loop",
        ["", "seconds", "rows/s", "DynamoDB requests", "per row"],
        [
            [
                "import job (POST to succeeded)",
                f"{imported:.2f}",
                f"{rows / imported:,.0f}",
                str(requests),
                f"{requests / rows:.3f}",
            ],
            [
                "direct batch_write_item loop, the app's items",
                f"{direct:.2f}",
                f"{rows / direct:,.0f}",
                str(rows // 25),
                f"{1 / 25:.3f}",
            ],
            [
                "(for scale) the same records, no derived attributes",
                f"{bare:.2f}",
                f"{rows / bare:,.0f}",
                str(rows // 25),
                f"{1 / 25:.3f}",
            ],
        ],
        [
            "requests of the import: " + ", ".join(f"{name} {n}" for name, n in sorted(counted.items())),
            f"import rows/s are {direct / imported:.2f}x the direct loop's "
            f"(target >= {1 / TARGET_RATIO:.1f}x)",
        ],
        checks=[Check("import time / direct loop time", ratio, TARGET_RATIO)],
    )
    return [table]
