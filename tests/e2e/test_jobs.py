"""Imports, exports and erasures over HTTP against `serverless-crud serve` of template.yaml: the
template's own state machines on the embedded Step Functions, their tasks in the local Lambda.

The app runs in its open mode (no sign-in): every job belongs to the same owner.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from serverless_crud.models.fields import csv_columns
from serverless_crud.models.fields import fields as record_fields
from tests.e2e.conftest import START_LIMIT_SECONDS, Server, aws_client, start_server

pytestmark = pytest.mark.runs_for(90)

CSV = {"Content-Type": "text/csv"}
JSONL = {"Content-Type": "application/x-ndjson"}
EXACT = "12345678901234567890.123456789"
#: Files up to the API's largest body limit (the default, 64 KB, takes about 900 short rows).
LIMIT = ("--parameter-overrides", "MaxBodyBytes=4000000")


def finished(server: Server, location: str) -> dict[str, Any]:
    """The job once it has succeeded or failed (a guard against a hang, not a timing assertion)."""
    deadline = time.monotonic() + START_LIMIT_SECONDS * 3
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        reply = server.request("GET", location)
        if reply.status in (502, 504):
            # The API function's 10 s ran out while the job's tasks saturate the machine (locally
            # every DynamoDB request waits for one lock, and an export's Scans hold it): ask again.
            time.sleep(0.5)
            continue
        job = reply.json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"{location} did not finish: {job}")


def start(server: Server, path: str, body: Any, headers: dict[str, str] | None = None) -> str:
    reply = server.request("POST", path, body, headers)
    assert reply.status == 202, reply.body
    location = reply.headers["Location"]
    assert location.endswith("/jobs/" + reply.json()["id"])
    assert reply.json()["status"] in ("queued", "running", "succeeded")
    return str(location)


def records(server: Server, email: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = f"/records?limit=100&cursor={cursor}" + (f"&email={email}" if email else "")
        page = server.request("GET", query).json()
        found.extend(page["items"])
        if not page["next_cursor"]:
            return found
        cursor = page["next_cursor"]


def thousand_rows() -> tuple[str, dict[int, str]]:
    """1,000 data rows, 5 of them bad (by line number: what is wrong)."""
    lines = ["email,id,name,amount,tags,active,phone"]
    bad: dict[int, str] = {}
    for n in range(1, 1001):
        line = n + 1
        email = f"owner{n % 7}@example.com"
        if n == 100:
            lines.append(f"{email},{n},Wrong amount,lots,,true,")
            bad[line] = "amount"
        elif n == 200:
            lines.append(f"{email},{n},,1,,true,")
            bad[line] = "name"
        elif n == 300:
            lines.append(f"{email},{n},Wrong active,1,,perhaps,")
            bad[line] = "active"
        elif n == 400:
            lines.append(f"owner{399 % 7}@example.com,399,Duplicate key,1,,true,")
            bad[line] = "id"
        elif n == 500:
            lines.append(f"{email},minus-one,Wrong id,1,,true,")
            bad[line] = "id"
        else:
            amount = EXACT if n == 7 else f"{n}.{n % 100:02d}"
            lines.append(
                f'{email},{n},"Row {n}, quoted",{amount},a|b,{"true" if n % 2 else "false"},+1 555 {n}'
            )
    return "\n".join(lines) + "\n", bad


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("jobs"), *LIMIT)
    # The first job's request should not also pay the state machines' creation and the function's cold
    # start within its 10 s timeout on a machine busy with the other tests: both happen first (the
    # first Step Functions request creates the machines).
    running.wait_for_output("States ready")
    assert aws_client(running.aws, "stepfunctions").list_state_machines()["stateMachines"]
    assert running.request("GET", "/records?limit=1").status == 200
    yield running
    running.stop()


def test_a_thousand_row_csv_stores_the_good_rows_once_and_reports_the_bad_by_line(server):
    text, bad = thousand_rows()
    job = finished(server, start(server, "/imports", text.encode(), CSV))
    assert job["status"] == "succeeded", job
    assert job["counts"] == {"rows": 1000, "written": 995, "unchanged": 0, "rejected": 5}
    assert {r["line"]: r["errors"][0]["field"] for r in job["rejected"]} == bad
    assert [r["line"] for r in job["rejected"]] == sorted(bad)
    duplicate = next(r for r in job["rejected"] if r["line"] == 401)
    assert duplicate["errors"] == [{"field": "id", "message": "repeats the key of line 400"}]
    stored = records(server)
    assert len(stored) == 995
    assert len({(r["email"], r["id"]) for r in stored}) == 995
    seventh = server.request("GET", "/records/owner0@example.com/7").json()
    assert seventh["amount"] == Decimal(EXACT)
    assert EXACT.encode() in server.request("GET", "/records/owner0@example.com/7").body
    assert seventh["name"] == "Row 7, quoted"
    assert seventh["tags"] == ["a", "b"]
    assert seventh["phone"] == "+1 555 7"
    assert seventh["version"] == 1

    # The same file again: every good row is there with the same values (no duplicate, no new version).
    again = finished(server, start(server, "/imports", text.encode(), CSV))
    assert again["counts"] == {"rows": 1000, "written": 0, "unchanged": 995, "rejected": 5}
    assert len(records(server)) == 995
    assert server.request("GET", "/records/owner0@example.com/7").json()["version"] == 1

    # Changed values: rejected as `exists`, unless ?mode=upsert writes them over (a new version).
    changed = text.replace('"Row ', '"Renamed ')
    refused = finished(server, start(server, "/imports", changed.encode(), CSV))
    assert refused["counts"] == {"rows": 1000, "written": 0, "unchanged": 0, "rejected": 1000}
    exists = next(r for r in refused["rejected"] if r["line"] == 2)
    assert exists["errors"] == [{"field": "id", "message": "exists: a record has this email and id"}]
    upserted = finished(server, start(server, "/imports?mode=upsert", changed.encode(), CSV))
    assert upserted["counts"] == {"rows": 1000, "written": 995, "unchanged": 0, "rejected": 5}
    seventh = server.request("GET", "/records/owner0@example.com/7").json()
    assert (seventh["version"], seventh["name"]) == (2, "Renamed 7, quoted")
    assert len(records(server)) == 995


def test_rows_without_an_id_get_the_same_derived_id_on_every_run(server):
    text = "email,name\nderived@example.com,First\nderived@example.com,Second\n"
    first = finished(server, start(server, "/imports", text.encode(), CSV))
    assert first["counts"] == {"rows": 2, "written": 2, "unchanged": 0, "rejected": 0}
    ids = sorted(r["id"] for r in records(server, "derived@example.com"))
    assert len(ids) == 2
    second = finished(server, start(server, "/imports?mode=upsert", text.encode(), CSV))
    assert second["counts"]["unchanged"] == 2
    assert sorted(r["id"] for r in records(server, "derived@example.com")) == ids


def test_json_lines_with_exact_numbers_and_bad_lines(server):
    lines = [
        json.dumps({"email": "lines@example.com", "id": 1, "name": "One", "amount": 0.1}),
        "",
        '{"email": "lines@example.com", "id": 2, "name": "Two", "amount": ' + EXACT + "}",
        "not json",
        json.dumps(["an", "array"]),
        json.dumps({"email": "lines@example.com", "id": 3, "name": "Three", "colour": "red"}),
    ]
    job = finished(server, start(server, "/imports", ("\n".join(lines) + "\n").encode(), JSONL))
    assert job["counts"] == {"rows": 5, "written": 2, "unchanged": 0, "rejected": 3}
    assert [(r["line"], r["errors"][0]["field"]) for r in job["rejected"]] == [
        (4, "row"),
        (5, "row"),
        (6, "colour"),
    ]
    assert server.request("GET", "/records/lines@example.com/2").json()["amount"] == Decimal(EXACT)
    assert b'"amount":0.1' in server.request("GET", "/records/lines@example.com/1").body


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"email,name\na@example.com,A\n", {"Content-Type": "application/xml"}, 415),
        (b"email,name\na@example.com,A\n", {"Content-Type": "application/json"}, 400),
        (b'{"upload": "0123456789abcdef0123456789abcdef"}', {"Content-Type": "application/json"}, 422),
        (b"email,name\n" + b"a@example.com,A\n" * 260000, CSV, 413),
        (b"colour,size\nred,big\n", CSV, 422),
        (b"", CSV, 422),
        (b"[1, 2]\n", JSONL, 422),
        (b"\xff\xfe", CSV, 422),
    ],
)
def test_bad_files_are_refused_before_any_job_starts(server, body, headers, status):
    before = len(server.request("GET", "/jobs").json()["items"])
    reply = server.request("POST", "/imports", body, headers)
    assert reply.status == status
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "Traceback" not in reply.body.decode()
    assert len(server.request("GET", "/jobs").json()["items"]) == before


def test_export_and_import_into_an_empty_state_directory_gives_identical_records(server, tmp_path):
    text = "email,id,name,amount,tags,notes\n" + "".join(
        f'round@example.com,{n},Name {n},{n}.50,x|y z,"multi\nline {n}"\n' for n in range(1, 31)
    )
    finished(server, start(server, "/imports", text.encode(), CSV))
    original = {r["id"]: r for r in records(server, "round@example.com")}
    exported = {}
    for fmt in ("csv", "jsonl"):
        job = finished(server, start(server, "/exports", {"format": fmt, "email": "round@example.com"}))
        assert job["counts"] == {"records": 30}
        import urllib.request

        with urllib.request.urlopen(job["download_url"], timeout=30) as response:
            exported[fmt] = response.read()
    # The columns are the record's fields, in the order the model declares them.
    assert exported["csv"].startswith((",".join(csv_columns()) + "\n").encode())

    fresh = start_server(tmp_path, *LIMIT)
    try:
        # The CSV writes the records; the JSON Lines file then holds exactly the same values.
        for fmt, headers, written in (("csv", CSV, 30), ("jsonl", JSONL, 0)):
            job = finished(fresh, start(fresh, "/imports?mode=upsert", exported[fmt], headers))
            assert job["counts"] == {"rows": 30, "written": written, "unchanged": 30 - written, "rejected": 0}
            copied = {r["id"]: r for r in records(fresh, "round@example.com")}
            fields = [f.name for f in record_fields() if not f.server]
            assert {i: {f: r[f] for f in fields} for i, r in copied.items()} == {
                i: {f: r[f] for f in fields} for i, r in original.items()
            }
    finally:
        fresh.stop()


def test_an_export_of_everything_and_the_jobs_list(server):
    job = finished(server, start(server, "/exports", {"format": "jsonl"}))
    total = len(records(server))
    assert job["counts"] == {"records": total}
    listed = server.request("GET", "/jobs").json()["items"]
    assert listed[0]["id"] == job["id"]  # newest first
    assert {j["kind"] for j in listed} >= {"import", "export"}
    assert server.request("GET", "/jobs/nope").status == 404
    assert server.request("POST", "/exports", {"format": "xml"}).status == 422


def test_erasure_empties_one_partition_and_leaves_the_others(server):
    text = "email,id,name\n" + "".join(f"erase-me@example.com,{n},N{n}\n" for n in range(1, 61))
    text += "".join(f"keep-me@example.com,{n},K{n}\n" for n in range(1, 4))
    finished(server, start(server, "/imports", text.encode(), CSV))
    job = finished(server, start(server, "/erasures", {"email": "Erase-Me@example.com"}))
    assert job["status"] == "succeeded"
    # The history of those records goes too (as much of it as the stream had written: test_history).
    assert 0 <= job["counts"].pop("history_erased") <= 60
    assert job["counts"] == {"records": 60, "erased": 60, "left": 0}
    assert records(server, "erase-me@example.com") == []
    assert len(records(server, "keep-me@example.com")) == 3
    assert server.request("POST", "/erasures", {}).status == 422


def test_list_executions_shows_what_ran(server):
    sfn = aws_client(server.aws, "stepfunctions")
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    imports = sfn.list_executions(stateMachineArn=machines["serverless-crud-local-import"])["executions"]
    jobs = {j["id"] for j in server.request("GET", "/jobs").json()["items"] if j["kind"] == "import"}
    assert {e["name"] for e in imports} == jobs
    assert {e["status"] for e in imports} == {"SUCCEEDED"}


def test_an_import_interrupted_by_kill_9_is_failed_and_its_rerun_rejects_nothing_it_wrote(tmp_path):
    text, bad = thousand_rows()
    big = text + "".join(f"late@example.com,{n},Late {n},,,,\n" for n in range(1, 3001))
    first = start_server(tmp_path, *LIMIT, state=tmp_path / "state")
    try:
        location = start(first, "/imports", big.encode(), CSV)
        deadline = time.monotonic() + START_LIMIT_SECONDS * 3
        # Killed once some chunks are written, and before all of them are.
        while first.request("GET", location).json()["counts"].get("written", 0) < 800:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        first.stop(signal.SIGKILL)
    second = start_server(tmp_path, *LIMIT, state=tmp_path / "state")
    try:
        job = second.request("GET", location).json()
        assert job["status"] == "failed"
        assert job["failure"] == "the job was interrupted by a restart; start it again"
        assert "interrupted by the last stop" in second.output()
        written_before = len(records(second))
        assert 800 <= written_before < 3995
        again = finished(second, start(second, "/imports", big.encode(), CSV))
        counts = again["counts"]
        # What the first run wrote is counted as already imported, never as rejected.
        assert counts["unchanged"] == written_before, counts
        assert counts == {
            "rows": 4000,
            "written": 3995 - written_before,
            "unchanged": written_before,
            "rejected": 5,
        }
        assert {r["line"] for r in again["rejected"]} == set(bad)
        assert len(records(second)) == 3995
    finally:
        second.stop()


def test_throttled_batch_writes_are_retried_by_the_state_machine_and_nothing_is_lost_or_doubled(tmp_path):
    text, bad = thousand_rows()
    throttling = start_server(tmp_path, *LIMIT, "--throttle-batch-writes", "3")
    try:
        assert "1 in 3 BatchWriteItem requests leaves half its items unprocessed" in throttling.output()
        location = start(throttling, "/imports", text.encode(), CSV)
        job = finished(throttling, location)
        assert job["status"] == "succeeded", job
        assert job["counts"] == {"rows": 1000, "written": 995, "unchanged": 0, "rejected": 5}
        assert {r["line"] for r in job["rejected"]} == set(bad)
        stored = records(throttling)
        assert len(stored) == 995
        assert {r["version"] for r in stored} == {1}
        # The retries were the state machine's: the chunks' tasks failed with WriteThrottled (the
        # function's log says so, as CloudWatch would) and were run again by their child executions.
        assert "] [ERROR] WriteThrottled: " in throttling.output()  # Lambda's Python runtime's words
    finally:
        throttling.stop()


def post_form(url: str, fields: dict[str, str], data: bytes, media: str) -> tuple[int, bytes]:
    """A browser's form upload: the fields, then the file."""
    import urllib.error
    import urllib.request
    import uuid

    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    disposition = 'Content-Disposition: form-data; name="file"; filename="f"'
    head = "".join(parts) + f"--{boundary}\r\n{disposition}\r\nContent-Type: {media}\r\n\r\n"
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_an_upload_is_the_callers_and_imports_like_a_body(server):
    reply = server.request("POST", "/imports/uploads", {"format": "jsonl"})
    assert reply.status == 201
    upload = reply.json()
    assert upload["max_bytes"] == 1073741824
    data = (json.dumps({"email": "uploaded@example.com", "id": 1, "name": "Up"}) + "\n").encode()
    status, _ = post_form(upload["upload_url"], upload["upload_fields"], data, upload["content_type"])
    assert status == 204
    job = finished(server, start(server, "/imports", {"upload": upload["upload"], "format": "jsonl"}))
    assert job["counts"] == {"rows": 1, "written": 1, "unchanged": 0, "rejected": 0}
    missing = server.request("POST", "/imports", {"upload": "f" * 32, "format": "jsonl"})
    assert missing.status == 422
    assert missing.json()["errors"] == [
        {
            "field": "upload",
            "message": "has no file: POST the file to its upload_url with its upload_fields first",
        }
    ]


def test_a_file_over_the_limits_is_refused_before_a_job_starts(tmp_path):
    overrides = ("MaxBodyBytes=4000000", "MaxImportBytes=4096", "MaxImportRows=50", "MaxImportLineBytes=1024")
    limited = start_server(tmp_path, *(a for o in overrides for a in ("--parameter-overrides", o)))
    try:
        # An upload over the size: refused when asked for (the size said), and by S3 (the size sent).
        said = limited.request("POST", "/imports/uploads", {"format": "csv", "size": 5000})
        assert said.status == 413
        assert said.json()["detail"] == "the file is 5,000 bytes; an import takes at most 4,096"
        upload = limited.request("POST", "/imports/uploads", {"format": "csv"}).json()
        big = b"email,name\n" + b"someone@example.com,A name\n" * 200
        status, answer = post_form(upload["upload_url"], upload["upload_fields"], big, "text/csv")
        assert (status, b"<Code>EntityTooLarge</Code>" in answer) == (400, True)
        assert (
            limited.request("POST", "/imports", {"upload": upload["upload"], "format": "csv"}).status == 422
        )
        # A body over the size, a line over its limit, more rows than the limit: one sentence each.
        for body, detail in (
            (big, f"the file is {len(big):,} bytes; an import takes at most 4,096"),
            (
                b"email,name\nlong@example.com," + b"x" * 2000 + b"\n",
                "line 2 is longer than 1,024 bytes, the limit of one line",
            ),
            (
                b"email,name\n" + b"a@example.com,A\n" * 51,
                "the file has more than 50 rows, the limit of one import",
            ),
        ):
            reply = limited.request("POST", "/imports", body, CSV)
            assert reply.status in (413, 422)
            assert reply.json()["detail"] == detail
        assert limited.request("GET", "/jobs").json()["items"] == []
        # A file uploaded within the size but over the row limit fails at its first step: nothing written.
        upload = limited.request("POST", "/imports/uploads", {"format": "csv"}).json()
        rows = b"email,name\n" + b"r@example.com,R\n" * 60
        assert post_form(upload["upload_url"], upload["upload_fields"], rows, "text/csv")[0] == 204
        job = finished(limited, start(limited, "/imports", {"upload": upload["upload"], "format": "csv"}))
        assert (job["status"], job["failure"]) == (
            "failed",
            "the file has more than 50 rows, the limit of one import",
        )
        assert records(limited) == []
    finally:
        limited.stop()


def test_step_functions_requests_made_at_once_wait_for_the_templates_machines(tmp_path):
    """The server answers before its state machines exist in moto (they are created in the
    background); an import and a Step Functions call made the moment it says it is ready both see them."""
    fresh = start_server(tmp_path)
    try:
        sfn = aws_client(fresh.aws, "stepfunctions")
        with ThreadPoolExecutor(2) as pool:
            imported = pool.submit(start, fresh, "/imports", b"email,name\nat-once@example.com,First\n", CSV)
            listed = pool.submit(sfn.list_state_machines)
            names = {machine["name"] for machine in listed.result()["stateMachines"]}
            location = imported.result()
        assert names == {f"serverless-crud-local-{kind}" for kind in ("import", "export", "erase")}
        job = finished(fresh, location)
        assert (job["status"], job["counts"]) == (
            "succeeded",
            {"rows": 1, "written": 1, "unchanged": 0, "rejected": 0},
        )
        assert "States ready: serverless-crud-local-import, " in fresh.output()
    finally:
        fresh.stop()
