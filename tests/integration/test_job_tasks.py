"""The jobs' tasks driven with the events their state machines send (`serverless_crud.tasks.handler`)
against moto: the split's chunks and manifest, chunks written and rewritten, a chunk whose child
execution failed, an export's parts joined into one file. Both key layouts of the records table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_crud.logic import jobs

#: Chunks of 10 rows here (the code's 1,000 make the same test a hundred times slower).
CHUNK_ROWS = 10
JOBS_TABLE = "jobs"
BUCKET = "files"


class Context:
    function_name = "TasksFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:TasksFunction"
    aws_request_id = "request"


@pytest.fixture
def tasks(table: dict[str, Any], aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3

    from tests.conftest import reset_function_state

    if JOBS_TABLE not in aws.list_tables()["TableNames"]:
        aws.create_table(
            TableName=JOBS_TABLE,
            KeySchema=[
                {"AttributeName": "owner", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "owner", "AttributeType": "S"},
                {"AttributeName": "id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("s3").create_bucket(Bucket=BUCKET)
    monkeypatch.setattr(jobs, "CHUNK_ROWS", CHUNK_ROWS)
    monkeypatch.setenv("JOBS_TABLE", JOBS_TABLE)
    monkeypatch.setenv("FILES_BUCKET", BUCKET)
    reset_function_state()
    from serverless_crud.tasks import handler

    def run(task: str, job: dict[str, Any], **more: Any) -> Any:
        return handler({"task": task, "job": job, **more}, Context())

    yield run
    reset_function_state()


def _job(files: Any, name: str, text: str, kind: str = "import", **more: Any) -> dict[str, Any]:
    from serverless_crud.dal.clients import client
    from serverless_crud.dal.jobs import JobRepository

    name = f"{name}-{uuid.uuid4().hex[:8]}"  # one jobs table for every test of the session
    job = {
        "owner": "open",
        "id": name,
        "kind": kind,
        "format": "csv",
        "mode": "create",
        "caller": {"admin": True},
    }
    job.update(more)
    JobRepository(client("dynamodb"), JOBS_TABLE).create({**job, "status": "queued", "counts": {}})
    if text:
        job["source_key"] = f"imports/{name}/source.csv"
        files.put_object(Bucket=BUCKET, Key=job["source_key"], Body=text.encode())
    return job


def _manifest(files: Any, split: dict[str, Any]) -> list[dict[str, Any]]:
    body = files.get_object(Bucket=BUCKET, Key=split["manifest"])["Body"].read()
    return list(json.loads(body))


def test_a_split_file_written_chunk_by_chunk_with_one_chunk_failed(tasks: Any) -> None:
    import boto3

    files = boto3.client("s3")
    rows = CHUNK_ROWS * 2 + 10
    lines = [f"t{n % 3}@example.com,{n},Name {n}" for n in range(1, rows + 1)]
    lines[CHUNK_ROWS + 4] = "t2@example.com,5,Repeat"  # line CHUNK_ROWS + 6 repeats the key of line 6
    job = _job(files, "split-1", "email,id,name\n" + "\n".join(lines) + "\n")
    split = tasks("import.split", job)
    assert (split["rows"], split["chunks"]) == (rows, 3)
    manifest = _manifest(files, split)
    assert [item["index"] for item in manifest] == [0, 1, 2]
    assert manifest[1]["repeats"] == {str(CHUNK_ROWS + 6): 6}
    assert "repeats" not in manifest[0]

    first = tasks("import.write", job, chunk=manifest[0], digest=split["digest"])
    assert first == {"written": CHUNK_ROWS, "unchanged": 0, "rejected": 0}
    # A retried chunk (its earlier attempt wrote everything) counts its own rows as written.
    assert tasks("import.write", job, chunk=manifest[0], digest=split["digest"]) == first
    second = tasks("import.write", job, chunk=manifest[1], digest=split["digest"])
    assert second == {"written": CHUNK_ROWS - 1, "unchanged": 0, "rejected": 1}
    # The third chunk's child execution failed (tolerated): its rows are reported as not imported.
    counts = tasks("import.finish", job, split=split)
    assert counts == {
        "rows": rows,
        "written": CHUNK_ROWS * 2 - 1,
        "unchanged": 0,
        "rejected": 11,
        "failed": 10,
    }
    report = files.get_object(Bucket=BUCKET, Key=f"imports/{job['id']}/rejected.csv")["Body"].read().decode()
    assert report.splitlines()[:2] == ["line,field,message", f"{CHUNK_ROWS + 6},id,repeats the key of line 6"]
    assert (
        report.splitlines()[-1] == f"{rows + 1},row,was not imported: its chunk failed; run the import again"
    )

    # The same file again: every row written before is unchanged, the failed chunk's rows are written.
    again = _job(files, "split-2", "email,id,name\n" + "\n".join(lines) + "\n")
    split = tasks("import.split", again)
    for item in _manifest(files, split):
        tasks("import.write", again, chunk=item, digest=split["digest"])
    counts = tasks("import.finish", again, split=split)
    assert counts == {"rows": rows, "written": 10, "unchanged": CHUNK_ROWS * 2 - 1, "rejected": 1}


def test_an_export_in_segments_joined_into_one_file(tasks: Any, api: Any) -> None:
    import boto3

    files = boto3.client("s3")
    for n in range(1, 41):
        assert (
            api.post("/records", {"email": f"x{n % 4}@example.com", "id": n, "name": f"=N{n}"}).status == 201
        )
    job = _job(files, "export-1", "", kind="export")
    plan = tasks("export.plan", job)
    assert plan == {"segments": list(range(8)), "of": 8}
    results = []
    for segment in plan["segments"]:
        part = {"segment": segment, "of": 8, "piece": 0, "cursor": None, "records": 0}
        while True:
            part = tasks("export.part", job, part=part)
            if part["cursor"] is None:
                break
        results.append({"records": part["records"]})
    assert tasks("export.join", job, segments=results) == {"records": 40}
    data = files.get_object(Bucket=BUCKET, Key=f"exports/{job['id']}/records.csv")["Body"].read().decode()
    lines = data.splitlines()
    assert lines[0].startswith("email,id,name,")
    assert len(lines) == 41
    assert sorted(int(line.split(",")[1]) for line in lines[1:]) == list(range(1, 41))
    assert all(line.split(",")[2].startswith("'=N") for line in lines[1:])
