"""Record history on the local runtime: how long after a write its history entry can be read.

`serverless-crud serve` (the open mode) delivers the records table's stream to HistoryFunction as
Lambda does (the poller reads the shard four times a second, a batch waits up to a second to fill,
MaximumBatchingWindowInSeconds). Each write is answered, then its record's history is read every 5 ms
until the entry of that version is there: the delay is from the write's answer to the first read
that shows it. Writes are sequential (one at a time), so each delay is one change's alone.
The request path's own cost with the stream on is the handler section's (the function writes two
small attributes more per write; a deletion one UpdateItem more, its note).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.local_runtime import _start
from bench.report import Table, median, ms, percentile

TITLE = "Record history: from a write to its history entry (local runtime)"
POLL_SECONDS = 0.005


def _call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/merge-patch+json" if method == "PATCH" else "application/json"}
    began = time.perf_counter()
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    data = response.read()
    took = time.perf_counter() - began
    connection.close()
    return response.status, json.loads(data) if data else None, took


def _delay(port: int, path: str, version: int, how: str) -> float:
    """Seconds from now until the record's history shows `version` made `how`."""
    began = time.perf_counter()
    while True:
        status, page, _ = _call(port, "GET", f"{path}/history?limit=5")
        if status == 200 and any(e["version"] == version and e["how"] == how for e in page["items"]):
            return time.perf_counter() - began
        if time.perf_counter() - began > 30:
            raise RuntimeError(f"no history entry of {path} version {version} after 30 s")
        time.sleep(POLL_SECONDS)


def run(options: Any = None) -> list[Table]:
    """Measure the delay of creates, patches and deletes; the requests' own latency beside it."""
    quick = os.environ.get("BENCH_QUICK") == "1" or getattr(options, "cold_repetitions", 21) < 10
    writes = 5 if quick else 30
    with tempfile.TemporaryDirectory() as scratch:
        process, _, port, _, _ = _start(Path(scratch) / "state", "--no-fsync")
        try:
            delays: dict[str, list[float]] = {"create": [], "patch": [], "delete": []}
            latency: dict[str, list[float]] = {"create": [], "patch": [], "delete": []}
            for n in range(writes + 2):  # the first two warm the functions up
                status, record, took = _call(
                    port, "POST", "/records", {"email": "bench@example.com", "name": f"N{n}"}
                )
                assert status == 201, record
                path = f"/records/bench%40example.com/{record['id']}"
                created = _delay(port, path, 1, "create")
                status, _, patched_in = _call(port, "PATCH", path, {"notes": "changed"})
                patched = _delay(port, path, 2, "patch")
                status, _, deleted_in = _call(port, "DELETE", path)
                deleted = _delay(port, path, 2, "delete")
                if n >= 2:
                    for kind, delay, request in (
                        ("create", created, took),
                        ("patch", patched, patched_in),
                        ("delete", deleted, deleted_in),
                    ):
                        delays[kind].append(delay)
                        latency[kind].append(request)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
    table = Table(
        TITLE,
        ["write", "n", "request p50 ms", "entry after p50 ms", "entry after p95 ms", "max ms"],
        notes=[
            "entry after: from the write's answer to the first history read showing its entry (every 5 ms)",
            "the stream is polled 4 times a second and a batch waits up to 1 s to fill, as the template says",
            "a deletion through the API is readable at once: the API notes it (the stream completes it)",
        ],
        data={"delays": delays, "latency": latency},
    )
    for kind, values in delays.items():
        table.rows.append(
            [
                kind,
                str(len(values)),
                ms(median(latency[kind]) * 1000),
                ms(median(values) * 1000),
                ms(percentile(values, 0.95) * 1000),
                ms(max(values) * 1000),
            ]
        )
    return [table]


if __name__ == "__main__":
    for result in run():
        print(result.render())
