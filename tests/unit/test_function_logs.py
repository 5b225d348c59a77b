"""Every execution environment's output, read as Lambda keeps it: lines and whole records, to the console
and to the function's log stream."""

from __future__ import annotations

import io
import os
import time
from typing import Any

from serverless_local.services.lambda_.function_logs import LogCollector
from serverless_local.services.lambda_.worker import LOG, PLATFORM, REPORT, write_frame


def until(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return result


def test_lines_and_records_reach_the_log_and_the_console():
    console = io.StringIO()
    collector = LogCollector(console)
    written: list[tuple[str, str, str]] = []
    collector.attach(
        lambda group, stream, events: written.extend((group, stream, e["message"]) for e in events)
    )
    output_read, output_write = os.pipe()
    records_read, records_write = os.pipe()
    collector.add("Fn", "/aws/lambda/fn", "stream-1", output_read, records_read)

    os.write(output_write, b"first line\nsecond ")
    os.write(output_write, b"half\n")
    with os.fdopen(records_write, "wb", buffering=0) as records:
        write_frame(records, LOG, b"[ERROR] boom\nTraceback (most recent call last):\n  File x")  # type: ignore[arg-type]
        write_frame(records, PLATFORM, b"START RequestId: r1")  # type: ignore[arg-type]
        write_frame(records, REPORT, b"REPORT RequestId: r1")  # type: ignore[arg-type]
    os.close(output_write)

    assert until(lambda: len(written) == 5)
    assert {message for _, _, message in written} == {
        "first line",
        "second half",
        "[ERROR] boom\nTraceback (most recent call last):\n  File x",  # a record stays one event
        "START RequestId: r1",
        "REPORT RequestId: r1",
    }
    assert {(group, stream) for group, stream, _ in written} == {("/aws/lambda/fn", "stream-1")}
    shown = console.getvalue()
    assert "[Fn] first line\n" in shown and "[Fn] second half\n" in shown
    assert "[Fn] Traceback (most recent call last):\n" in shown  # each line of a record, prefixed
    assert "START" not in shown  # Lambda's own lines are the log's, not the console's
    assert "[Fn] REPORT RequestId: r1\n" in shown  # but for its REPORT line, as `sam local` shows it
    collector.stop()


def test_events_wait_for_the_writer_and_are_not_lost():
    collector = LogCollector(io.StringIO())
    output_read, output_write = os.pipe()
    records_read, records_write = os.pipe()
    collector.add("Fn", "g", "s", output_read, records_read)
    os.write(output_write, b"before the writer\n")
    time.sleep(0.2)

    written: list[str] = []
    collector.attach(lambda group, stream, events: written.extend(e["message"] for e in events))
    os.write(output_write, b"after\n")

    assert until(lambda: written == ["before the writer", "after"])
    os.close(output_write)
    os.close(records_write)
    collector.stop()
