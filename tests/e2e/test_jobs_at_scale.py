"""Jobs at size over HTTP against `serverless-crud serve` of template.yaml: a 5,000-row import
(five chunks, each its own child execution) through a presigned upload and the export of it
(nothing lost or doubled), and CSV cells that spreadsheets would run as formulas exported
neutralised and imported back unchanged.

The 100,000- and 1,000,000-row runs (and the tasks' peak memory) are `make bench`'s: bench/jobs.py.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, start_server
from tests.e2e.test_jobs import CSV, LIMIT, finished, post_form, records, start

pytestmark = pytest.mark.runs_for(35)

ROWS = 5_000  # make bench imports 100,000 and 1,000,000 (bench/jobs.py)
OWNERS = 1000
FORMULAS = (
    '=HYPERLINK("http://x","y")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "''",
    "'",
    "plain ' text",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Lambda runs ImportConcurrency chunks at once; locally as many warm instances as two cores use.
    running = start_server(tmp_path_factory.mktemp("scale"), *LIMIT, "--concurrency", "3")
    yield running
    running.stop()


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        data: bytes = response.read()
        return data


def test_five_thousand_rows_in_through_an_upload_and_out_again_exactly(server: Server, tmp_path: Any) -> None:
    flag = ("false", "true")
    lines = ["email,id,name,amount,tags,active"]
    lines += [
        f"owner{n % OWNERS}@example.com,{n},Person {n},{n}.{n % 100:02d},t{n % 7}|all,{flag[n % 3 > 0]}"
        for n in range(1, ROWS + 1)
    ]
    data = ("\n".join(lines) + "\n").encode()
    upload = server.request("POST", "/imports/uploads", {"format": "csv", "size": len(data)}).json()
    assert post_form(upload["upload_url"], upload["upload_fields"], data, "text/csv")[0] == 204
    job = finished(server, start(server, "/imports", {"upload": upload["upload"], "format": "csv"}))
    assert job["status"] == "succeeded", job
    assert job["counts"] == {"rows": ROWS, "written": ROWS, "unchanged": 0, "rejected": 0}

    exported = finished(server, start(server, "/exports", {"format": "csv"}))
    assert exported["counts"] == {"records": ROWS}
    rows = list(csv.DictReader(io.StringIO(_download(exported["download_url"]).decode())))
    assert len(rows) == ROWS
    keys = {(r["email"], int(r["id"])) for r in rows}
    assert keys == {
        (f"owner{n % OWNERS}@example.com", n) for n in range(1, ROWS + 1)
    }  # none lost, none twice
    sample = next(r for r in rows if r["id"] == "4242")
    assert (sample["name"], sample["amount"], sample["tags"], sample["active"]) == (
        "Person 4242",
        "4242.42",
        "t0|all",
        "false",  # 4242 is a multiple of 3
    )
    # One owner's records: one Query, in id order.
    owner = finished(server, start(server, "/exports", {"format": "jsonl", "email": "owner7@example.com"}))
    ids = [json.loads(line)["id"] for line in _download(owner["download_url"]).decode().splitlines()]
    assert ids == list(range(7, ROWS + 1, OWNERS))


def test_formula_cells_are_exported_neutralised_and_imported_back_unchanged(
    server: Server, tmp_path: Any
) -> None:
    email = "formulas@example.com"
    body = "".join(
        json.dumps(
            {
                "email": email,
                "id": n,
                "name": text,
                "notes": text,
                "phone": "+1 555 0100",
                "tags": [text.replace("|", " "), "ok"],
            }
        )
        + "\n"
        for n, text in enumerate(FORMULAS, start=1)
    )
    job = finished(server, start(server, "/imports", body.encode(), {"Content-Type": "application/x-ndjson"}))
    assert job["counts"]["written"] == len(FORMULAS), job
    original = {r["id"]: r for r in records(server, email)}
    export = finished(server, start(server, "/exports", {"format": "csv", "email": email}))
    data = _download(export["download_url"])
    cells = list(csv.reader(io.StringIO(data.decode(), newline="")))
    # Every text cell a spreadsheet would run starts with ' now; numbers stay numbers.
    for row in cells[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    by_id = {int(row[1]): row for row in cells[1:]}
    assert by_id[1][2] == "'" + FORMULAS[0]
    assert by_id[1][3] == "'+1 555 0100"
    assert by_id[7][2] == "''=already quoted"  # so that the import gives back exactly '=already quoted
    assert by_id[10][2] == "plain ' text"

    # Into an empty state directory: the same values, digit for digit and character for character.
    fresh = start_server(tmp_path, *LIMIT)
    try:
        copied = finished(fresh, start(fresh, "/imports", data, CSV))
        assert copied["counts"] == {
            "rows": len(FORMULAS),
            "written": len(FORMULAS),
            "unchanged": 0,
            "rejected": 0,
        }
        fields = ("name", "notes", "phone", "tags")
        assert {r["id"]: {f: r[f] for f in fields} for r in records(fresh, email)} == {
            i: {f: r[f] for f in fields} for i, r in original.items()
        }
    finally:
        fresh.stop()
