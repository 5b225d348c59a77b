"""Damaged state, as an operator who leaves the server running meets it: a flipped bit is repaired, a
line beyond repair is set aside, a damaged snapshot falls back to the previous one and the journal;
every service reports it in the banner in the same words, once; the server starts.
"""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import test_identity as identity
from tests.e2e.conftest import START_LIMIT_SECONDS, Server, aws_client, start_server
from tests.e2e.test_local_workflows import MACHINE, finished
from tests.e2e.test_local_workflows import serve as serve_workflows

pytestmark = pytest.mark.runs_for(60)


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


def beyond_repair(line: bytes, at: int) -> bytes:
    """The line with two bytes of its data changed (more than one bit: set aside, never guessed)."""
    return flip(flip(line, at, 0xFF), at + 3, 0xFF)


def create(server: Server, name: str) -> dict[str, Any]:
    reply = server.request("POST", "/records", {"email": "keep@example.com", "name": name})
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def names(server: Server) -> list[str]:
    items = server.request("GET", "/records?email=keep%40example.com&limit=100").json()["items"]
    return sorted(item["name"] for item in items)


def notes(server: Server) -> list[str]:
    """The banner's notes about the services' state (the others: local values, keys... left out)."""
    found = [line.strip().removeprefix("note: ") for line in server.output().splitlines()]
    return [note for note in found if note.startswith(("DynamoDB: ", "Cognito: ", "S3: ", "States: "))]


def journal_lines(namespace: Path) -> tuple[Path, list[bytes]]:
    journal = max(namespace.glob("journal-*.log"))
    return journal, journal.read_bytes().splitlines(keepends=True)


def acknowledged(tmp_path: Path, count: int) -> tuple[Path, list[bytes]]:
    server = start_server(tmp_path)
    for number in range(count):
        create(server, f"r{number:02d}")
    server.stop(signal.SIGKILL)
    return journal_lines(tmp_path / "state" / "dynamodb")


# -- the journal -----------------------------------------------------------------------------------------
def test_one_flipped_bit_mid_journal_is_repaired_and_nothing_is_lost(tmp_path):
    journal, lines = acknowledged(tmp_path, 30)
    middle = len(lines) // 2
    assert b'"name":{"S":"r' in lines[middle]
    lines[middle] = flip(lines[middle], lines[middle].index(b'"name"') + 3)
    journal.write_bytes(b"".join(lines))

    again = start_server(tmp_path)
    try:
        assert names(again) == [f"r{n:02d}" for n in range(30)]
        assert notes(again) == [
            f"DynamoDB: 1 journal line(s) with one flipped bit repaired ({journal.name} line {middle + 1} "
            "(one flipped bit))"
        ]
    finally:
        again.stop()
    third = start_server(tmp_path)
    try:
        assert notes(third) == []  # written back repaired: not reported again
    finally:
        third.stop()


def test_a_line_damaged_beyond_repair_costs_only_its_entry_and_is_reported_once(tmp_path):
    journal, lines = acknowledged(tmp_path, 30)
    middle = len(lines) // 2
    hit = lines[middle]
    lines[middle] = beyond_repair(hit, hit.index(b'"name"'))
    journal.write_bytes(b"".join(lines))
    lost = hit.split(b'"name":{"S":"', 1)[1].split(b'"', 1)[0].decode()

    again = start_server(tmp_path)
    try:
        assert names(again) == sorted(f"r{n:02d}" for n in range(30) if f"r{n:02d}" != lost)
        assert notes(again) == [
            f"DynamoDB: 1 damaged journal line(s) set aside ({journal.name} line {middle + 1} (the checksum "
            f"does not match); copied to <segment>.damaged); the other {len(lines) - 1} entries are kept"
        ]
        assert journal.with_name(journal.name + ".damaged").read_bytes() == lines[middle]
    finally:
        again.stop()
    third = start_server(tmp_path)
    try:
        assert notes(third) == []
    finally:
        third.stop()


def test_a_flipped_newline_merging_two_entries_loses_neither(tmp_path):
    journal, lines = acknowledged(tmp_path, 10)
    middle = len(lines) // 2
    lines[middle] = lines[middle][:-1] + bytes([ord("\n") ^ 0x20])  # "\n" became "*"
    journal.write_bytes(b"".join(lines))

    again = start_server(tmp_path)
    try:
        assert names(again) == [f"r{n:02d}" for n in range(10)]
        assert "repaired" in notes(again)[0]
        assert "set aside" not in again.output()
    finally:
        again.stop()


# -- snapshots -------------------------------------------------------------------------------------------
def two_snapshots(tmp_path: Path) -> Path:
    """A state directory whose newest snapshot holds r00 to r19 and whose previous one r00 to r09."""
    for first in (0, 10):
        server = start_server(tmp_path)
        for number in range(first, first + 10):
            create(server, f"r{number:02d}")
        server.stop()
        # The next start has the journal compacted into a snapshot (if its background has not got to
        # it, its clean stop does); the second keeps the one before it, with the journal after it.
        start_server(tmp_path).stop()
    namespace = tmp_path / "state" / "dynamodb"
    snapshots = sorted(namespace.glob("snapshot-??????"))
    assert len(snapshots) == 2
    return snapshots[-1]


@pytest.mark.parametrize("damage", ["value", "structure"])
def test_a_damaged_newest_snapshot_falls_back_to_the_previous_one_and_the_journal(tmp_path, damage):
    newest = two_snapshots(tmp_path)
    data = next(path for path in (newest / "data").glob("*.log") if b'"r15"' in path.read_bytes())
    raw = data.read_bytes()
    line_start = raw.rindex(b"\n", 0, raw.index(b'"r15"')) + 1
    line = raw.count(b"\n", 0, line_start) + 1
    if damage == "value":  # "r15" became "r14": valid JSON, a plausible record, and wrong
        position = raw.index(b'"r15"') + 3
        data.write_bytes(raw[:position] + b"4" + raw[position + 1 :])
    else:  # the item's first brace became a bracket: the line is no JSON at all
        position = raw.index(b"{", line_start + 9)
        data.write_bytes(flip(raw, position, 0x20))

    again = start_server(tmp_path)
    try:
        assert names(again) == [f"r{n:02d}" for n in range(20)]
        previous = sorted((tmp_path / "state" / "dynamodb").glob("snapshot-??????"))[0]
        assert notes(again) == [
            f"DynamoDB: the snapshot {newest.name} is damaged (data/{data.name} line {line:,}: the checksum "
            f"does not match); the state was rebuilt from {previous.name} and the journal after it instead, "
            f"so nothing is lost (the damaged one is kept as {newest.name}.damaged)"
        ]
        assert (newest.parent / f"{newest.name}.damaged" / "data" / data.name).exists()
        create(again, "r20")
    finally:
        again.stop()
    third = start_server(tmp_path)
    try:
        assert names(third) == [f"r{n:02d}" for n in range(21)]
        assert notes(third) == []
    finally:
        third.stop()


# -- every service alike ---------------------------------------------------------------------------------
def test_damage_is_reported_alike_for_every_service_before_the_banner_ends_and_once(tmp_path):
    server = start_server(tmp_path, signed_in=True)
    try:
        identity.add_user(server, identity.ALICE)
        admin = {
            "Authorization": identity.sign_in(server, identity.LOCAL_ADMIN, identity.admin_password(server))[
                "IdToken"
            ]
        }
        assert (
            server.request("POST", "/records", {"email": identity.BOB, "name": "kept"}, admin).status == 201
        )
        reply = server.request("POST", "/exports", {"email": identity.BOB}, admin)
        assert reply.status == 202, reply.body
        location = reply.headers["Location"]
        deadline = time.monotonic() + START_LIMIT_SECONDS * 3
        while (job := server.request("GET", location, headers=admin).json())["status"] not in (
            "succeeded",
            "failed",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job["status"] == "succeeded", job
    finally:
        server.stop(signal.SIGKILL)

    state = tmp_path / "state"
    damaged: dict[str, tuple[Path, int, int]] = {}
    for title, namespace, marker in (
        ("DynamoDB", "dynamodb", b'"kept"'),
        ("Cognito", "cognito-idp", identity.ALICE.encode()),
        ("S3", "s3", b'"key"'),
        ("States", "stepfunctions", b'"input"'),  # its start: the end alone says how it finished
    ):
        journal, lines = journal_lines(state / namespace)
        number = next(n for n, line in enumerate(lines) if marker in line)
        lines[number] = beyond_repair(lines[number], 20)
        journal.write_bytes(b"".join(lines))
        damaged[title] = (journal, number + 1, len(lines) - 1)

    again = start_server(tmp_path, signed_in=True)
    try:
        reported = notes(again)
        for title, (journal, line, kept) in damaged.items():
            expected = (
                f"{title}: 1 damaged journal line(s) set aside ({journal.name} line {line} "
                "(the checksum does not match); copied to <segment>.damaged); "
                f"the other {kept} entries are kept"
            )
            assert expected in reported, (expected, reported)
            assert journal.with_name(journal.name + ".damaged").exists()
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while "States ready" not in again.output():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        output = again.output()
        assert output.index("States: 1 damaged") < output.index("States ready")  # in the banner, not after
        sfn = aws_client(again.aws, "stepfunctions")
        (execution,) = [
            e
            for m in sfn.list_state_machines()["stateMachines"]
            for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        ]
        assert execution["status"] == "SUCCEEDED"
    finally:
        again.stop()
    third = start_server(tmp_path, signed_in=True)
    try:
        assert not [note for note in notes(third) if "journal line" in note]
    finally:
        third.stop()


def test_a_finished_execution_whose_end_line_is_damaged(tmp_path):
    server = serve_workflows(tmp_path)
    try:
        sfn = aws_client(server.aws, "stepfunctions")
        arns = []
        for name in ("flipped", "lost"):
            started = sfn.start_execution(
                stateMachineArn=MACHINE, name=name, input=json.dumps({"n": 2, "fail": 0, "items": []})
            )
            assert finished(sfn, started["executionArn"])["status"] == "SUCCEEDED"
            arns.append(started["executionArn"])
    finally:
        server.stop(signal.SIGKILL)
    journal, lines = journal_lines(tmp_path / "state" / "stepfunctions")
    ends = {json.loads(line[9:])["name"]: n for n, line in enumerate(lines) if b'"status"' in line}
    lines[ends["flipped"]] = flip(lines[ends["flipped"]], lines[ends["flipped"]].index(b"SUCCEEDED") + 2)
    lines[ends["lost"]] = beyond_repair(lines[ends["lost"]], lines[ends["lost"]].index(b"SUCCEEDED"))
    journal.write_bytes(b"".join(lines))

    again = serve_workflows(tmp_path)
    try:
        sfn = aws_client(again.aws, "stepfunctions")
        flipped = finished(sfn, arns[0])
        assert flipped["status"] == "SUCCEEDED"
        assert json.loads(flipped["output"])["doubled"]["n"] == 4
        lost = finished(sfn, arns[1])  # its end cannot be read: said so, not "interrupted"
        assert (lost["status"], lost["cause"]) == (
            "FAILED",
            "its end was recorded in a journal line that was damaged and set aside",
        )
        reported = " ".join(notes(again))
        assert "States: 1 journal line(s) with one flipped bit repaired" in reported
        assert "States: 1 damaged journal line(s) set aside" in reported
        assert "interrupted" not in again.output()
    finally:
        again.stop()


def test_unreadable_state_never_stops_the_server_with_a_trace(tmp_path):
    newest = two_snapshots(tmp_path)
    for path in (newest / "data").glob("*.log"):
        path.write_bytes(b"\x00" * 100)
    (tmp_path / "state" / "dynamodb" / "CURRENT").write_bytes(b"garbage")

    again = start_server(tmp_path)
    try:
        assert names(again) == [f"r{n:02d}" for n in range(20)]
        assert any(re.search(r"CURRENT cannot be read", note) for note in notes(again))
        assert "Traceback" not in again.output()
    finally:
        again.stop()
