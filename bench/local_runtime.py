"""The local runtime (`serverless-crud serve`): requests through the local gateway, list pages against
a direct Scan, memory across 1,000 list pages, and start-up time against a bare moto server.

Throughput: the server in its own process, clients on keep-alive connections in this one (both share
the machine's cores, so the figures are a floor), once the server's background work is done; signed
in, 1, 16 and 64 clients. List pages: `GET /records?limit=25` following the cursor through 1,000
records, against boto3 Scans of 25 (following LastEvaluatedKey) of the same embedded table at the AWS
endpoint, in the same run; the server's RSS before and after 1,000 pages. Start-up: a state directory
holding N records, either as a journal (replayed) or as a snapshot (loaded), timed from process start
to the answer of its first page of 25 records (`GET /records?limit=25`), against the floor: a bare
moto server (bench/moto_floor.py) that starts holding the same tables and items, timed from process
start to the answer of its first Scan of 25; the runs alternate, so both meet the same load.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Local runtime: serverless-crud serve"
BANNER = re.compile(r"API http://([\d.]+):(\d+)/ .*ready in (\d+) ms")
AWS = re.compile(r"AWS (http://[\d.]+:\d+)")
STARTUP_TARGET_SECONDS = 2.0
STARTUP_RECORDS = 10_000
LIST_RECORDS = 1_000
LIST_PAGES = 1_000
PAGE = 25
LIST_TARGET_MS = 10.0
#: Pages of each kind whose CPU is counted (apart from the timed ones: their CPU would mix).
CPU_PAGES = 200
#: A page through the gateway against a direct Scan of the same page at the AWS endpoint.
LIST_RATIO_TARGET = 1.2
#: Against the bare moto floor: the first answer with 10,000 records, and signed-in GETs.
STARTUP_FLOOR_RATIO = 2.5
SIGNED_IN_CLIENTS = (1, 16, 64)
SIGNED_IN_ROUNDS = 4
SIGNED_IN_P99_MS = 50.0
#: Throughput with 64 clients against 16: no drop beyond the noise of a shared machine.
THROUGHPUT_KEPT = 0.95


#: The first request of a start-up: a page of the records (what the server must have loaded).
FIRST_PAGE = f"/records?limit={PAGE}"


def _start(
    state: Path, *args: str, signed_in: bool = False
) -> tuple[subprocess.Popen[bytes], Path, int, float, float]:
    """Start the server; (process, log, port, seconds to the first answer of a page of records, its own
    'ready in' seconds)."""
    log = state.parent / f"serve-{time.monotonic_ns()}.log"
    began = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "serverless_crud_cli",
                "serve",
                "--port",
                "0",
                "--state-dir",
                str(state),
                # The open mode, as the figures before sign-in were measured (unless `signed_in`).
                *(() if signed_in else ("--parameter-overrides", "AuthMode=none")),
                *args,
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    while True:
        match = BANNER.search(log.read_text(errors="replace"))
        if match:
            break
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        time.sleep(0.005)
    port = int(match.group(2))
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", FIRST_PAGE)
    answer = connection.getresponse()
    answer.read()
    first_answer = time.perf_counter() - began
    connection.close()
    if answer.status not in (200, 401):  # signed in, the page is refused without a token: an answer too
        raise RuntimeError(f"{FIRST_PAGE}: {answer.status}\n{log.read_text()}")
    return process, log, port, first_answer, int(match.group(3)) / 1000


def _settled(log: Path) -> None:
    """Wait for the server's background work (the state machines are its last warm-up)."""
    deadline = time.monotonic() + 120
    while "States ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not settle:\n{log.read_text()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait()


def _load(
    port: int,
    clients: int,
    requests: int,
    make: Callable[[int, int], tuple[str, str, bytes]],
    extra: dict[str, str] | None = None,
    *,
    raw: bool = False,
) -> dict[str, Any]:
    """`clients` threads, each on its own connection, `requests` each; throughput and latency (with
    `raw`, the latencies and the elapsed time too, for `_merged`)."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        mine = []
        barrier.wait()
        for index in range(requests):
            method, path, body = make(number, index)
            headers = {**({"Content-Type": "application/json"} if body else {}), **(extra or {})}
            started = time.perf_counter()
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if raw:
        return {"latencies": latencies, "elapsed": elapsed}
    return _summary(latencies, elapsed)


def _merged(runs: list[dict[str, Any]]) -> dict[str, float]:
    """The summary of several `_load(..., raw=True)` runs taken together."""
    latencies = [latency for run in runs for latency in run["latencies"]]
    return _summary(latencies, sum(run["elapsed"] for run in runs))


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def measure_requests(requests_per_client: int = 200) -> list[list[str]]:
    """GET and POST through the local gateway under 1 and 16 concurrent clients."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        process, log, port, _, _ = _start(Path(directory) / "state", "--fresh")
        try:
            _settled(log)
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.request(
                "POST",
                "/records",
                json.dumps({"email": "bench@example.com", "name": "b"}),
                {"Content-Type": "application/json"},
            )
            record = json.loads(connection.getresponse().read())
            connection.close()
            get_path = f"/records/bench%40example.com/{record['id']}"

            def get(_client: int, _index: int) -> tuple[str, str, bytes]:
                return "GET", get_path, b""

            def post(client: int, index: int) -> tuple[str, str, bytes]:
                body = {"email": f"c{client}@example.com", "name": f"n{index}", "tags": ["a", "b"]}
                return "POST", "/records", json.dumps(body).encode()

            for clients in (1, 16):
                for name, make in (("GET one record", get), ("POST a record", post)):
                    count = (
                        max(20, requests_per_client // clients * 2) if clients > 1 else requests_per_client
                    )
                    _load(port, clients, 10, make)  # warm-up
                    result = _load(port, clients, count, make)
                    rows.append(
                        [
                            name,
                            str(clients),
                            str(count * clients),
                            f"{result['rps']:.0f}",
                            f"{result['p50']:.1f}",
                            f"{result['p99']:.1f}",
                        ]
                    )
        finally:
            _stop(process)
    return rows


def measure_signed_in(requests: int = 400) -> tuple[list[list[str]], dict[int, dict[str, float]]]:
    """GET of one record with an ID token (the local Cognito authorizer's check on every request), by
    1, 16 and 64 keep-alive clients."""
    import boto3

    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory) / "state"
        process, log, port, _, _ = _start(state, "--fresh", signed_in=True)
        try:
            _settled(log)
            local = json.loads((state / "cognito-idp" / "local.json").read_text())
            cognito = boto3.client(
                "cognito-idp",
                endpoint_url=local["endpoint"],
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",  # noqa: S106 (the local endpoint takes any)
            )
            password = (state / "cognito-idp" / "admin-password").read_text().strip()
            token = cognito.initiate_auth(
                ClientId=local["client_id"],
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "admin@example.com", "PASSWORD": password},
            )["AuthenticationResult"]["IdToken"]
            auth = {"Authorization": token}
            connection = http.client.HTTPConnection("127.0.0.1", port)
            body = json.dumps({"email": "bench@example.com", "name": "b"})
            connection.request("POST", "/records", body, {"Content-Type": "application/json", **auth})
            record = json.loads(connection.getresponse().read())
            connection.close()
            get_path = f"/records/bench%40example.com/{record['id']}"
            samples: dict[int, list[dict[str, Any]]] = {}
            for clients in SIGNED_IN_CLIENTS:
                _load(port, clients, 10, lambda _c, _i: ("GET", get_path, b""), auth)  # warm-up
            # Rounds in alternating order, so each number of clients meets the same load on average.
            for round_number in range(SIGNED_IN_ROUNDS):
                order = SIGNED_IN_CLIENTS if round_number % 2 == 0 else SIGNED_IN_CLIENTS[::-1]
                for clients in order:
                    per_client = max(10, requests // clients * 2 // SIGNED_IN_ROUNDS)
                    if clients == 1:
                        per_client = requests // SIGNED_IN_ROUNDS
                    samples.setdefault(clients, []).append(
                        _load(
                            port, clients, per_client, lambda _c, _i: ("GET", get_path, b""), auth, raw=True
                        )
                    )
            results = {clients: _merged(runs) for clients, runs in samples.items()}
        finally:
            _stop(process)
    rows = [
        [
            "GET one record, signed in (ID token checked)",
            str(clients),
            str(int(result["requests"])),
            f"{result['rps']:.0f}",
            f"{result['p50']:.1f}",
            f"{result['p99']:.1f}",
        ]
        for clients, result in results.items()
    ]
    return rows, results


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+)", status)
    return int(match.group(1)) / 1024 if match else 0.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.9)] * 1000


def measure_lists(pages: int = LIST_PAGES) -> tuple[list[list[str]], dict[str, float]]:
    """List pages through the gateway against direct Scans of the same pages at the AWS endpoint, one
    after the other, and the server's RSS around `pages` of each."""
    import boto3

    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory) / "state"
        _journal_of(LIST_RECORDS, state)
        process, log, port, _, _ = _start(state)
        try:
            endpoint = AWS.search(log.read_text())
            assert endpoint is not None
            connection = http.client.HTTPConnection("127.0.0.1", port)

            def page(cursor: str | None) -> str | None:
                connection.request("GET", f"/records?limit={PAGE}" + (f"&cursor={cursor}" if cursor else ""))
                response = connection.getresponse()
                body = json.loads(response.read())
                if response.status != 200:
                    raise RuntimeError(f"list: {response.status} {body}")
                return body.get("next_cursor")

            dynamodb = boto3.client(
                "dynamodb",
                endpoint_url=endpoint.group(1),
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",  # noqa: S106 (the local endpoint takes any)
            )
            start_key: dict[str, Any] | None = None

            def scan() -> None:
                nonlocal start_key
                answer = dynamodb.scan(
                    TableName="RecordsTable",
                    Limit=PAGE,
                    **({"ExclusiveStartKey": start_key} if start_key else {}),
                )
                start_key = answer.get("LastEvaluatedKey")

            _settled(log)
            cursor: str | None = None
            for _ in range(50):  # warm-up, and the server's own caches filled
                cursor = page(cursor)
                scan()
            before = _rss_mb(process.pid)
            gateway: list[float] = []
            direct: list[float] = []
            for _ in range(pages):  # alternating, so both meet the same load
                started = time.perf_counter()
                cursor = page(cursor)
                gateway.append(time.perf_counter() - started)
                started = time.perf_counter()
                scan()
                direct.append(time.perf_counter() - started)
            after = _rss_mb(process.pid)
            cpu = {
                "gateway": _cpu_per_call(process.pid, lambda: page(cursor), CPU_PAGES),
                "direct": _cpu_per_call(process.pid, scan, CPU_PAGES),
            }
            connection.close()
        finally:
            _stop(process)
    gateway_p50, gateway_p90 = _percentiles(gateway)
    direct_p50, direct_p90 = _percentiles(direct)
    rows = [
        [
            f"GET /records?limit={PAGE} (a Scan page, cursor followed)",
            f"{gateway_p50:.1f}",
            f"{gateway_p90:.1f}",
        ],
        [f"boto3 Scan Limit={PAGE} at the AWS endpoint (baseline)", f"{direct_p50:.1f}", f"{direct_p90:.1f}"],
        [
            "ratio (gateway / direct Scan)",
            f"{gateway_p50 / direct_p50:.2f}x",
            f"{gateway_p90 / direct_p90:.2f}x",
        ],
    ]
    figures: dict[str, Any] = {
        "before_mb": before,
        "after_mb": after,
        "gateway_p50": gateway_p50,
        "direct_p50": direct_p50,
        "cpu": cpu,
    }
    return rows, figures


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{pid}\n" in status.read_text():
                found.append(int(status.parent.name))
        except OSError:
            continue
    return found


def _cpu_per_call(server: int, call: Callable[[], Any], calls: int) -> dict[str, float]:
    """Milliseconds of CPU a call costs the server, its execution environments and this client."""
    workers = _children(server)
    before = (_cpu_seconds(server), sum(_cpu_seconds(w) for w in workers), time.process_time())
    for _ in range(calls):
        call()
    after = (_cpu_seconds(server), sum(_cpu_seconds(w) for w in workers), time.process_time())
    names = ("server", "functions", "client")
    return {name: (b - a) * 1000 / calls for name, a, b in zip(names, before, after, strict=True)}


def _table() -> dict[str, Any]:
    """The records table's CreateTable parameters, from template.yaml."""
    from tests.support.stack import read_stack

    return dict(read_stack(ROOT / "template.yaml").tables["RecordsTable"])


def _records(records: int) -> Iterator[dict[str, Any]]:
    """`records` items of the records table (DynamoDB JSON), as the app writes them."""
    from serverless_crud.dal.attributes import serialise_item
    from serverless_crud.dal.derived import derived

    for number in range(records):
        item = {
            "email": {"S": f"user{number % 500}@example.com"},
            "id": {"N": str(1_700_000_000_000_000 + number)},
            "name": {"S": f"Person {number}"},
            "phone": {"NULL": True},
            "notes": {"S": "some notes " * 5},
            "tags": {"L": [{"S": "alpha"}, {"S": "beta"}]},
            "amount": {"N": "12.50"},
            "active": {"BOOL": True},
            "version": {"N": "1"},
            "created_at": {"S": "2026-01-01T00:00:00.000Z"},
            "updated_at": {"S": "2026-01-01T00:00:00.000Z"},
        }
        # The search and sort attributes every write stores, so the indexes are replayed too.
        record = {"email": item["email"]["S"], "id": int(item["id"]["N"]), "name": item["name"]["S"]}
        record.update(notes=item["notes"]["S"], tags=["alpha", "beta"], amount=Decimal("12.50"))
        record["updated_at"] = item["updated_at"]["S"]
        item.update(serialise_item({k: v for k, v in derived(record).items() if k not in ("email", "id")}))
        yield item


def _journal_of(records: int, state: Path) -> None:
    """A state directory whose journal holds `records` records, written as the server writes them."""
    from serverless_local.journal import Store

    table = _table()
    store = Store(state / "dynamodb", sync=False)
    entries: list[dict[str, Any]] = [{"op": "create_table", "params": table}]
    entries += [{"op": "put", "table": table["TableName"], "item": item} for item in _records(records)]
    store.append(entries)
    store.close()


def _floor_files(records: int, directory: Path) -> tuple[Path, Path]:
    """The floor's inputs: the table's parameters and the same records as DynamoDB export JSON."""
    tables, items = directory / "tables.json", directory / "items.jsonl"
    tables.write_text(json.dumps([_table()]))
    with items.open("w") as out:
        out.writelines(json.dumps({"Item": item}) + "\n" for item in _records(records))
    return tables, items


def _floor_start(tables: Path, items: Path) -> float:
    """Seconds from starting a bare moto server holding the items to the answer of its first Scan of
    a page (one plain HTTP request, as the local runtime's first answer is)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    table = _table()["TableName"]
    body = json.dumps({"TableName": table, "Limit": PAGE})
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.Scan",
        # moto reads the region and the service from the credential scope; it checks no signature.
        "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "moto_floor.py"), str(tables), str(items), table, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the moto floor did not start: {line!r}")
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request("POST", "/", body, headers)
        answer = connection.getresponse()
        page = json.loads(answer.read())
        elapsed = time.perf_counter() - began
        connection.close()
        if answer.status != 200 or len(page.get("Items", [])) != PAGE:
            raise RuntimeError(f"the moto floor answered {answer.status}: {str(page)[:200]}")
        return elapsed
    finally:
        process.kill()
        process.wait()


def _spread(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"{ordered[len(ordered) // 2]:.2f} ({ordered[0]:.2f}\u2013{ordered[-1]:.2f})"


def measure_startup(
    records: int = STARTUP_RECORDS, repetitions: int = 3
) -> tuple[list[list[str]], dict[str, float]]:
    """Seconds from process start to the first page of records: empty, journal replay, snapshot load,
    and the bare moto floor holding the same items; runs alternate so every case meets the same load."""
    first: dict[str, list[float]] = {}
    ready: dict[str, list[float]] = {}
    labels = {
        "empty": "empty state directory",
        "journal": f"{records:,} records in the journal (replayed)",
        "snapshot": f"{records:,} records in a snapshot (loaded)",
        "floor": f"floor: bare moto server holding the same {records:,} records",
    }
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        tables, items = _floor_files(records, base)
        snapshot_state = base / "snapshot"
        _journal_of(records, snapshot_state)
        process, log, *_ = _start(snapshot_state)  # replays, then compacts once it has answered
        _settled(log)
        _stop(process)  # a clean stop waits for the compaction: a snapshot is left behind
        for repetition in range(repetitions):
            for case in labels:
                if case == "floor":
                    first.setdefault(case, []).append(_floor_start(tables, items))
                    continue
                state = snapshot_state if case == "snapshot" else base / f"{case}-{repetition}"
                if case == "journal":
                    _journal_of(records, state)
                process, _, _, to_answer, ready_in = _start(state)
                _stop(process)
                first.setdefault(case, []).append(to_answer)
                ready.setdefault(case, []).append(ready_in)
    rows = [
        [label, _spread(ready[case]) if case in ready else "", _spread(first[case])]
        for case, label in labels.items()
    ]
    figures = {case: sorted(samples)[len(samples) // 2] for case, samples in first.items()}
    return rows, figures


def _render(title: str, columns: list[str], rows: list[list[str]], notes: list[str]) -> str:
    widths = [max(len(c) for c in column) for column in zip(columns, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    return "\n".join(
        [f"== {title}", line(columns), "  ".join("-" * w for w in widths), *map(line, rows), *notes]
    )


Checks = list[tuple[str, float, float]]


def _tables(quick: bool) -> list[tuple[str, list[str], list[list[str]], list[str], Checks]]:
    """(title, columns, rows, notes, targets as (name, ratio, limit)) for each table."""
    signed_rows, signed = measure_signed_in(50 if quick else 400)
    request_rows = measure_requests(50 if quick else 400) + signed_rows
    list_rows, lists = measure_lists(100 if quick else LIST_PAGES)
    pages = 100 if quick else LIST_PAGES
    startup_rows, startup = measure_startup(STARTUP_RECORDS, 1 if quick else 5)
    slowest = max(startup["journal"], startup["snapshot"])
    growth = lists["after_mb"] - lists["before_mb"]
    kept = signed[64]["rps"] / signed[16]["rps"]
    return [
        (
            f"List pages of {PAGE} from {LIST_RECORDS:,} records: the gateway against a direct Scan (ms)",
            ["request", "p50 ms", "p90 ms"],
            list_rows,
            [
                "the gateway's page: HTTP, the event, the function's own Scan at the same endpoint, "
                "its answer",
                "CPU ms a page, server / functions / client: gateway "
                + " / ".join(f"{lists['cpu']['gateway'][k]:.2f}" for k in ("server", "functions", "client"))
                + ", direct Scan "
                + " / ".join(f"{lists['cpu']['direct'][k]:.2f}" for k in ("server", "functions", "client")),
            ],
            [
                (f"list page p50 / {LIST_TARGET_MS:.0f} ms", lists["gateway_p50"] / LIST_TARGET_MS, 1.0),
                (
                    "list page / direct Scan (p50)",
                    lists["gateway_p50"] / lists["direct_p50"],
                    LIST_RATIO_TARGET,
                ),
            ],
        ),
        (
            f"Memory: the server's RSS around {pages:,} list pages of {PAGE}",
            ["before MB", "after MB", "growth MB", "per item returned"],
            [
                [
                    f"{lists['before_mb']:.1f}",
                    f"{lists['after_mb']:.1f}",
                    f"{growth:+.1f}",
                    f"{growth * 1024 * 1024 / (pages * PAGE):+.0f} B",
                ]
            ],
            ["was about +2 KB per item returned before moto's instance tracking was turned off"],
            [("memory growth / 5 MB over the pages", max(growth, 0.0) / 5.0, 1.0)],
        ),
        (
            "Requests through the local gateway (keep-alive clients on the same machine)",
            ["request", "clients", "requests", "req/s", "p50 ms", "p99 ms"],
            request_rows,
            [
                "one warm instance per function by default, one event at a time; more clients queue for it",
                "open mode (AuthMode=none) but the signed-in rows, which add the Cognito authorizer's check",
                f"64 clients keep {kept:.0%} of the throughput of 16",
            ],
            [
                (
                    f"signed-in GET p99 at 16 clients / {SIGNED_IN_P99_MS:.0f} ms",
                    signed[16]["p99"] / SIGNED_IN_P99_MS,
                    1.0,
                ),
                ("signed-in GET throughput, 16 clients / 64 clients", 1 / kept, 1 / THROUGHPUT_KEPT),
            ],
        ),
        (
            "Start-up to the first page of records (median of the runs, in brackets the fastest and slowest; "
            "'ready' is the server's own count, 'first answer' the client's, seconds)",
            ["state directory", "ready s", "first answer s"],
            startup_rows,
            [
                f"targets: the first answer with {STARTUP_RECORDS:,} records within "
                f"{STARTUP_FLOOR_RATIO}x the floor and {STARTUP_TARGET_SECONDS:.0f} s",
                f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
            ],
            [
                (
                    f"local start-up with {STARTUP_RECORDS:,} records / the bare moto floor",
                    slowest / startup["floor"],
                    STARTUP_FLOOR_RATIO,
                ),
                (f"local start-up / {STARTUP_TARGET_SECONDS:.0f} s", slowest / STARTUP_TARGET_SECONDS, 1.0),
            ],
        ),
    ]


def run(options: Any = None) -> list[Any]:
    """Measure; as a `make bench` section return its tables, alone print them.

    `options` is bench.report.Options when `python -m bench` runs the section (its quick mode has few
    cold repetitions); BENCH_QUICK=1 asks for a quick run when this module runs alone.
    """
    quick = os.environ.get("BENCH_QUICK") == "1" or getattr(options, "cold_repetitions", 21) < 10
    measured = _tables(quick)
    try:
        from bench.report import Check, Table
    except ImportError:
        for title, columns, rows, notes, checks in measured:
            verdicts = [
                f"   {name}: {'met' if ratio <= limit else 'NOT met'}" for name, ratio, limit in checks
            ]
            print(_render(title, columns, rows, [f"   {n}" for n in notes] + verdicts), end="\n\n")
        return []
    return [
        Table(title, columns, rows, notes, checks=[Check(*check) for check in checks])
        for title, columns, rows, notes, checks in measured
    ]


if __name__ == "__main__":
    run()
