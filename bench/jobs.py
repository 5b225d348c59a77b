"""Section "jobs": imports and exports at production sizes through the local runtime's own state
machines (Distributed Maps over S3), side by side with a floor measured in the same run.

1. A 100,000-row import end to end (presigned upload, split, chunks, report) against a direct
   BatchWriteItem loop writing the same items into the same embedded table (target: the import's
   rows per second at least 0.8x the loop's), with the DynamoDB requests per row (counted at the
   embedded DynamoDB's one entry point), then the export of those rows.
2. A 1,000,000-row file imported and exported: rows per second, and the tasks function's peak memory,
   read from each of its worker processes (the kernel's VmHWM, what Lambda's REPORT line calls Max
   Memory Used; target: under 200 MB, whatever the file's size).

The floor's items come from the app's record-to-item mapping, as the import's do: with the derived
attributes every search index holds (a bare item skips the indexes, a cost the import cannot skip;
its loop is shown for scale).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import Check, Options, Table

TITLE = "Jobs: imports and exports on Distributed Maps (local runtime)"
ROOT = Path(__file__).resolve().parents[1]
ROWS, BIG_ROWS = 100_000, 1_000_000
#: BENCH_JOBS_BIG_ROWS=0 skips the big file (its import and export take most of an hour locally).
BIG_ROWS_VARIABLE = "BENCH_JOBS_BIG_ROWS"
#: The import's rows per second must be at least 0.8x the direct loop's: its time at most 1.25x.
TARGET_RATIO = 1 / 0.8
#: The tasks function's peak memory, whatever the file's size.
MEMORY_TARGET_MB = 200
#: Chunks written at once locally: Lambda's workers on a machine of two cores.
CONCURRENCY = 4


def _csv(rows: int, owner: str) -> bytes:
    lines = ["email,id,name,amount,tags"]
    lines += [f"{owner}{n % 50}@example.com,{n},Row {n},{n}.25,a|b" for n in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def _request(url: str, body: bytes | None = None, media: str | None = None) -> tuple[dict[str, Any], Any]:
    headers = {"Content-Type": media} if media else {}
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET", headers=headers)  # noqa: S310 (the local server)
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return json.loads(response.read() or b"{}"), response.headers


def _upload(url: str, fields: dict[str, str], data: bytes) -> None:
    """A browser's form POST of the file (the presigned upload a big import goes through)."""
    boundary = uuid.uuid4().hex
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    disposition = 'Content-Disposition: form-data; name="file"; filename="f.csv"'
    head += f"--{boundary}\r\n{disposition}\r\nContent-Type: text/csv\r\n\r\n"
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 (the local S3)
        url, data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=300):  # noqa: S310
        pass


def _finished(base: str, location: str) -> dict[str, Any]:
    import urllib.error

    while True:
        try:
            job, _ = _request(base + location)
        except urllib.error.HTTPError as error:
            # A poll answered 502/504 (the API function's 10 s, on a machine the job saturates) is
            # asked again, as any client of a job would: reading a job changes nothing.
            if error.code not in (502, 504):
                raise
            job = {"status": "running"}
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(1)  # as a client polls: a job is not a busy loop


def _import(base: str, data: bytes) -> dict[str, Any]:
    """Upload the file, start its import, wait for it."""
    upload, _ = _request(
        f"{base}/imports/uploads", json.dumps({"format": "csv"}).encode(), "application/json"
    )
    _upload(upload["upload_url"], upload["upload_fields"], data)
    body = json.dumps({"upload": upload["upload"], "format": "csv"}).encode()
    _, headers = _request(f"{base}/imports", body, "application/json")
    return _finished(base, headers["Location"])


def _export(base: str) -> dict[str, Any]:
    _, headers = _request(f"{base}/exports", json.dumps({"format": "csv"}).encode(), "application/json")
    return _finished(base, headers["Location"])


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


def _tasks_peak_mb() -> int:
    """The highest peak resident memory (VmHWM) of this process's TasksFunction workers."""
    peaks = [0]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if (
            int(parent) == os.getpid()
            and b"serverless_local.services.lambda_.worker" in command
            and b'"TasksFunction"' in command
        ):
            peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
            peaks.append(int(peak) // 1024)
    return max(peaks)


def _server(state: Path) -> Any:
    from serverless_local.options import ServeOptions
    from serverless_local.server import LocalServer

    return LocalServer(
        ServeOptions(
            template=ROOT / "template.yaml",
            port=0,
            state_dir=state,
            sync=False,
            concurrency=CONCURRENCY,
            parameter_overrides={"MaxBodyBytes": "4000000", "AuthMode": "none"},
        )
    )


def _ready(server: Any) -> None:
    """Wait for the state machines (prepared in the background after the server answers): an
    in-process Step Functions request is held until they exist."""
    server.aws.client("stepfunctions").list_state_machines()


def run(options: Options | None = None) -> list[Table]:
    """Start the local runtime in this process; import, export, then the floor against the same table."""
    from moto.dynamodb.responses import DynamoHandler

    quick = options is not None and options.cold_repetitions < 10
    rows, big = (5_000, 20_000) if quick else (ROWS, int(os.environ.get(BIG_ROWS_VARIABLE, BIG_ROWS)))
    server = _server(Path(tempfile.mkdtemp(prefix="bench-jobs-")))
    server.start()
    counted: Counter[str] = Counter()
    counting = [False]

    def count(handler: Any, action: str, params: dict[str, Any]) -> None:
        if counting[0]:
            counted[action] += 1

    try:
        assert server.aws is not None
        _ready(server)
        # Counted after moto's action (successful requests; reads included: a read-only hook).
        server.aws.on_action(DynamoHandler, threading.RLock(), count)
        counting[0] = True
        began = time.perf_counter()
        job = _import(server.url, _csv(rows, "bench"))
        imported = time.perf_counter() - began
        counting[0] = False
        if job["status"] != "succeeded" or job["counts"]["written"] != rows:
            raise RuntimeError(f"the import did not write every row: {job}")
        began = time.perf_counter()
        exported_job = _export(server.url)
        exported = time.perf_counter() - began
        direct = _direct_loop(
            server.endpoint, "RecordsTable", _app_items(server.endpoint, _records(rows, "direct"))
        )
        bare = _direct_loop(server.endpoint, "RecordsTable", _bare_items(_records(rows, "bare")))

        if big:
            began = time.perf_counter()
            big_job = _import(server.url, _csv(big, "big"))
            big_imported = time.perf_counter() - began
            if big_job["status"] != "succeeded" or big_job["counts"]["written"] != big:
                raise RuntimeError(f"the big import did not write every row: {big_job}")
            began = time.perf_counter()
            big_export = _export(server.url)
            big_exported = time.perf_counter() - began
        peak = _tasks_peak_mb()
    finally:
        server.stop()
    requests = sum(counted.values())
    speed = Table(
        f"{rows:,}-row CSV import (uploaded; chunks of 1,000, {CONCURRENCY} at once) vs a direct loop",
        ["", "seconds", "rows/s", "DynamoDB requests", "per row"],
        [
            [
                "import job (upload to succeeded)",
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
            [
                f"export of every record ({exported_job['counts']['records']:,})",
                f"{exported:.2f}",
                f"{exported_job['counts']['records'] / exported:,.0f}",
                "",
                "",
            ],
        ],
        [
            "requests of the import: " + ", ".join(f"{name} {n}" for name, n in sorted(counted.items())),
            f"import rows/s are {direct / imported:.2f}x the direct BatchWriteItem loop's"
            f" (target >= {1 / TARGET_RATIO:.1f}x)",
            f"TasksFunction's peak memory (VmHWM of its workers) after every job of this run: {peak} MB",
        ],
        checks=[Check("import time / direct loop time", imported / direct, TARGET_RATIO)],
    )
    if not big:
        return [speed]
    scale = Table(
        f"{big:,}-row CSV ({len(_csv(big, 'big')) / 1e6:.1f} MB) imported and exported",
        ["", "seconds", "rows/s"],
        [
            ["import job (upload to succeeded)", f"{big_imported:.1f}", f"{big / big_imported:,.0f}"],
            [
                f"export of every record ({big_export['counts']['records']:,})",
                f"{big_exported:.1f}",
                f"{big_export['counts']['records'] / big_exported:,.0f}",
            ],
        ],
        [f"TasksFunction's peak memory (VmHWM of its workers): {peak} MB (target < {MEMORY_TARGET_MB} MB)"],
        checks=[Check("tasks' peak memory / 200 MB", peak / MEMORY_TARGET_MB, 1.0)],
        data={"peak_mb": peak},
    )
    return [speed, scale]
