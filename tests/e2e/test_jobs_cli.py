"""`serverless-crud import | export | erase` against a running `serverless-crud serve`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, start_server


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serverless_crud_cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("cli"))
    yield running
    running.stop()


def test_import_summarises_exits_3_on_rejections_and_writes_the_report(server, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text(
        "email,id,name,amount\ncli@example.com,1,Ann,0.1\ncli@example.com,2,,1\ncli@example.com,x,Bad,1\n"
    )
    done = cli("import", str(people), "--api", server.url, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "3 rows: 1 written, 2 rejected" in done.stdout
    assert "line 3: name is required" in done.stdout
    report = tmp_path / "people.csv.rejected.csv"
    assert f"listed in {report}" in done.stdout
    rows = list(csv.reader(report.open()))
    assert rows[0] == ["line", "field", "message"]
    assert [r[:2] for r in rows[1:]] == [["3", "name"], ["4", "id"]]
    assert "Traceback" not in done.stderr

    again = cli(
        "import", str(people), "--api", server.url, "--mode", "upsert", "--report", "r.csv", cwd=tmp_path
    )
    assert again.returncode == 3
    assert "3 rows: 0 written, 1 already imported (unchanged), 2 rejected" in again.stdout
    assert (tmp_path / "r.csv").exists()


def test_the_rejected_rows_report_is_safe_to_open_in_a_spreadsheet(server, tmp_path):
    formula = '=HYPERLINK("http://x","y")'
    lines = tmp_path / "sneaky.jsonl"
    lines.write_text(json.dumps({"email": "sneaky@example.com", "id": 1, "name": "S", formula: 1}) + "\n")
    done = cli("import", str(lines), "--api", server.url, cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    rows = list(csv.reader((tmp_path / "sneaky.jsonl.rejected.csv").open()))
    assert rows[1][:2] == ["1", "'" + formula]  # a text cell, not a formula


def test_a_clean_import_exits_0_and_json_lines_work(server, tmp_path):
    lines = tmp_path / "clean.jsonl"
    lines.write_text(json.dumps({"email": "clean@example.com", "id": 5, "name": "Clean"}) + "\n")
    done = cli("import", str(lines), "--api", server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 row: 1 written, 0 rejected" in done.stdout
    assert not (tmp_path / "clean.jsonl.rejected.csv").exists()


def test_export_writes_the_file_and_erase_counts(server, tmp_path):
    lines = tmp_path / "some.jsonl"
    lines.write_text(
        "".join(
            json.dumps({"email": "gone@example.com", "id": n, "name": f"G{n}"}) + "\n" for n in range(1, 4)
        )
    )
    assert cli("import", str(lines), "--api", server.url, cwd=tmp_path).returncode == 0
    done = cli(
        "export",
        "--api",
        server.url,
        "--format",
        "jsonl",
        "--email",
        "gone@example.com",
        "-o",
        "out.jsonl",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "3 records written to out.jsonl" in done.stdout
    exported = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in exported] == [1, 2, 3]
    erased = cli("erase", "gone@example.com", "--yes", "--api", server.url, cwd=tmp_path)
    assert erased.returncode == 0, erased.stderr
    assert "3 records of gone@example.com erased" in erased.stdout


def test_plain_sentences_when_it_cannot_run(server, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    wrong = cli("import", "notes.txt", "--api", server.url, cwd=tmp_path)
    assert (wrong.returncode, wrong.stderr.strip()) == (
        1,
        "serverless-crud: notes.txt is not a .csv, .jsonl or .ndjson file",
    )
    (tmp_path / "bad.csv").write_text("colour\nred\n")
    refused = cli("import", "bad.csv", "--api", server.url, cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith("serverless-crud: the API refused: the first line must be a header")
    unreachable = cli("erase", "a@example.com", "--yes", "--api", "http://127.0.0.1:9", cwd=tmp_path)
    assert unreachable.returncode == 1
    assert "cannot reach the API at http://127.0.0.1:9" in unreachable.stderr
    assert "Traceback" not in wrong.stderr + refused.stderr + unreachable.stderr


def test_a_file_over_the_body_limit_goes_through_a_presigned_upload(server, tmp_path):
    big = tmp_path / "big.csv"
    rows = "".join(f"big@example.com,{n},Row {n} {'x' * 40}\n" for n in range(1, 1501))
    big.write_text("email,id,name\n" + rows)
    assert big.stat().st_size > 65536  # over the default MaxBodyBytes: POST /imports would be 413
    done = cli("import", str(big), "--api", server.url, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1500 rows: 1500 written, 0 rejected" in done.stdout
