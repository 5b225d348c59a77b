"""The jobs' state machines within Step Functions' limits at ten million rows, computed from the
definitions in statemachines/ and the code's chunk sizes (no execution: a run of that size is for AWS).

Two limits bind a workflow that grows with its input (AWS's service quotas):
- a state's input or output, and a task's payload, are at most 262,144 bytes (256 KiB);
- one execution's history holds at most 25,000 events (a hard quota).

The test walks each definition's states as Step Functions would record them, every Retry exhausted
and every Catch taken where that is longer, and builds the largest state each step can hold from the
largest values the code can put there (the tasks' real outputs, run once in moto, their numbers set
to what a 10,000,000-row file gives). Both must stay under half of AWS's limit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_crud import settings
from serverless_crud.logic import jobs
from serverless_crud.logic.access import Caller

from .conftest import TEMPLATE_PATH

ROOT = TEMPLATE_PATH.parent
ROWS = 10_000_000
MAX_PAYLOAD = 262_144
MAX_HISTORY = 25_000
MARGIN = 2
#: Step Functions truncates an error's Cause to 32,768 characters (and its name to 256).
MAX_CAUSE, MAX_ERROR = 32_768, 256
#: The longest line number a file within the limits can have: 5 GiB of one-byte lines.
MAX_LINE = 5 * 1024**3 // 2


def _definition(name: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "statemachines" / name).read_text()))


# -- history: the events Step Functions records ------------------------------------------------
def _attempts(state: dict[str, Any]) -> int:
    """Worst case: every retrier used up, one after the other, then the last attempt."""
    return 1 + sum(int(rule.get("MaxAttempts", 3)) for rule in state.get("Retry", []))


def _events(state: dict[str, Any]) -> int:
    """Events one pass through a state records in its own execution's history."""
    kind = state["Type"]
    if kind == "Task":
        # Entered, then per attempt Scheduled, Started and Succeeded/Failed, then Exited.
        return 2 + 3 * _attempts(state)
    if kind == "Map":
        processor = state["ItemProcessor"]
        assert processor["ProcessorConfig"]["Mode"] == "DISTRIBUTED", (
            "an inline Map's items share one history"
        )
        # Entered, MapStateStarted, MapRunStarted, MapRunSucceeded/Failed, MapStateSucceeded, Exited:
        # the children's events are in their own executions' histories.
        return 6 * _attempts(state)
    if kind in ("Fail", "Succeed"):
        return 1
    return 2  # Pass, Choice, Wait: Entered and Exited


def _longest(states: dict[str, Any], start: str, loops: dict[str, int]) -> int:
    """The most events any path from `start` records (a Choice's back edge taken `loops[state]` times)."""

    def walk(name: str, seen: frozenset[str]) -> int:
        state = states[name]
        here = _events(state)
        if name in seen:
            return 0
        following = [state["Next"]] if "Next" in state else []
        following += [choice["Next"] for choice in state.get("Choices", [])]
        following += [state["Default"]] if "Default" in state else []
        following += [catch["Next"] for catch in state.get("Catch", [])]
        if not following:
            return here
        return here + max(walk(n, seen | {name}) for n in following)

    body = walk(start, frozenset())
    # A loop repeats its body: counted as the body's events times the iterations it takes.
    return body * max([1, *loops.values()])


def _history(definition: dict[str, Any], loops: dict[str, int] | None = None) -> int:
    """Events of the longest execution: ExecutionStarted and its end, and the longest path."""
    return 2 + _longest(definition["States"], definition["StartAt"], loops or {})


def _children(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        if state["Type"] == "Map":
            yield (
                name,
                {"StartAt": state["ItemProcessor"]["StartAt"], "States": state["ItemProcessor"]["States"]},
            )


# -- payloads: the largest state each step holds -----------------------------------------------
def _select(template: Any, state: Any, context: dict[str, Any]) -> Any:
    """A Parameters/ItemSelector/ResultSelector template applied (plain JSONPaths, as ours use)."""
    if isinstance(template, dict):
        chosen = {}
        for key, value in template.items():
            if key.endswith(".$"):
                chosen[key[:-2]] = _path(value, state, context)
            else:
                chosen[key] = _select(value, state, context)
        return chosen
    return template


def _path(path: str, state: Any, context: dict[str, Any]) -> Any:
    root, rest = (context, path[2:]) if path.startswith("$$") else (state, path[1:])
    value = root
    for part in filter(None, rest.split(".")):
        value = value[part]
    return value


def _put(state: dict[str, Any], path: str | None, result: Any) -> dict[str, Any]:
    if path is None:
        return state
    updated = json.loads(json.dumps(state))
    target = updated
    parts = path[2:].split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = result
    return dict(updated)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


@pytest.fixture(scope="module")
def worst() -> dict[str, Any]:
    """The largest values the code puts into an import's and an export's states at ten million rows."""
    longest_email = "a" * 64 + "@" + ("b" * 63 + ".") * 3 + "c" * 61  # 254 characters, RFC 5321's most
    caller = Caller("f" * 36, longest_email, True)
    job: dict[str, Any] = {
        "owner": jobs.owner_of(caller),
        "id": jobs.new_job_id(),
        "kind": jobs.IMPORT,
        "mode": "upsert",
        "format": "jsonl",
        "email": longest_email,
        "source_key": jobs._upload_key(caller, "0" * 32, "jsonl"),
        "caller": jobs._caller_payload(caller),
    }
    chunks = math.ceil(ROWS / jobs.CHUNK_ROWS)
    limits = settings.load({"TABLE_NAME": "records"})
    split = {
        "manifest": f"imports/{job['id']}/manifest.json",
        "chunks": chunks,
        "rows": ROWS,
        "digest": "f" * 64,
        "concurrency": 1000,
        "tolerated_failure_percent": 100,
    }
    assert limits.max_import_rows == ROWS, "the default row limit is the size this test checks"
    # A chunk whose every row repeats a key of an earlier line, both on the longest line numbers.
    repeats = {str(MAX_LINE - n): MAX_LINE - n - jobs.CHUNK_ROWS for n in range(jobs.CHUNK_ROWS)}
    item = {
        "index": chunks - 1,
        "key": f"imports/{job['id']}/chunks/{chunks - 1:07d}.json",
        "repeats": repeats,
    }
    counts = {"rows": ROWS, "written": ROWS, "unchanged": ROWS, "rejected": ROWS, "failed": ROWS}
    cursor = {"email": {"S": longest_email}, "id": {"N": str(2**53 - 1)}}
    segments = 1000  # ExportSegments' largest value
    part = {"segment": segments - 1, "of": segments, "piece": ROWS, "cursor": cursor, "records": ROWS}
    return {
        "job": job,
        "split": split,
        "item": item,
        "counts": counts,
        "part": part,
        "segments": segments,
        "error": {"Error": "E" * MAX_ERROR, "Cause": "C" * MAX_CAUSE},
        "map_run": {
            "MapRunArn": "arn:aws:states:ap-southeast-2:123456789012:mapRun:"
            + "s" * 80
            + "/WriteChunks:"
            + "0" * 36,
            "ResultWriterDetails": {
                "Bucket": "b" * 63,
                "Key": "imports/map-results/" + "0" * 36 + "/manifest.json",
            },
        },
    }


def _task_payload(state: dict[str, Any], data: dict[str, Any]) -> int:
    return _size(_select(state["Parameters"]["Payload"], data, {}))


def test_an_import_of_ten_million_rows_stays_within_the_history_and_payload_limits(
    worst: dict[str, Any],
) -> None:
    definition = _definition("import.asl.json")
    states = definition["States"]
    assert "ItemReader" in states["WriteChunks"], "the chunks' list must come from S3, not the state"
    assert "ResultWriter" in states["WriteChunks"], "the children's results must go to S3, not the state"

    # The parent's history does not grow with the rows (one Map run, whatever its items).
    parent = _history(definition)
    (_, child), *_ = _children(definition)
    children = _history(child)
    assert max(parent, children) * MARGIN < MAX_HISTORY, (parent, children)

    # The parent's state after each step, the error path included.
    state: dict[str, Any] = {"job": worst["job"]}
    payloads = [_task_payload(states["Split"], state)]
    state = _put(
        state,
        states["Split"]["ResultPath"],
        _select(states["Split"]["ResultSelector"], {"Payload": worst["split"]}, {}),
    )
    child_input = _select(
        states["WriteChunks"]["ItemSelector"], state, {"Map": {"Item": {"Value": worst["item"]}}}
    )
    write = child["States"]["WriteChunk"]
    payloads += [_size(child_input), _task_payload(write, child_input)]
    state = _put(
        state,
        states["WriteChunks"]["ResultPath"],
        _select(states["WriteChunks"]["ResultSelector"], worst["map_run"], {}),
    )
    payloads.append(_task_payload(states["Finish"], state))
    state = _put(
        state,
        states["Finish"]["ResultPath"],
        _select(states["Finish"]["ResultSelector"], {"Payload": worst["counts"]}, {}),
    )
    failed = _put(state, "$.error", worst["error"])
    payloads += [_size(state), _size(failed), _task_payload(states["RecordFailure"], failed)]
    assert max(payloads) * MARGIN < MAX_PAYLOAD, payloads


def test_an_export_of_ten_million_records_stays_within_the_history_and_payload_limits(
    worst: dict[str, Any],
) -> None:
    definition = _definition("export.asl.json")
    states = definition["States"]
    (_, child), *_ = _children(definition)
    # One owner's ten million records are one segment: its loop runs once per PART_RECORDS.
    runs = math.ceil(ROWS / jobs.PART_RECORDS)
    parent, children = _history(definition), _history(child, {"ExportPart": runs})
    assert max(parent, children) * MARGIN < MAX_HISTORY, (parent, children)

    state: dict[str, Any] = {"job": {**worst["job"], "kind": jobs.EXPORT}}
    plan = {"segments": list(range(worst["segments"])), "of": worst["segments"]}
    state = _put(
        state, states["Plan"]["ResultPath"], _select(states["Plan"]["ResultSelector"], {"Payload": plan}, {})
    )
    child_input = _select(
        states["Segments"]["ItemSelector"], state, {"Map": {"Item": {"Value": worst["part"]}}}
    )
    done = _select(child["States"]["SegmentDone"]["Parameters"], worst["part"], {})
    state = _put(state, states["Segments"]["ResultPath"], [done] * worst["segments"])
    payloads = [
        _size(child_input),
        _task_payload(child["States"]["ExportPart"], child_input),
        _task_payload(states["Join"], state),
        _size(_put(state, "$.error", worst["error"])),
    ]
    assert max(payloads) * MARGIN < MAX_PAYLOAD, payloads


def test_the_computation_sees_an_inline_map_break_the_history_limit() -> None:
    """The check can fail: the same import with an inline Map would record every chunk in one history."""
    definition = _definition("import.asl.json")
    inline = json.loads(json.dumps(definition))
    inline["States"]["WriteChunks"]["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    with pytest.raises(AssertionError, match="share one history"):
        _history(inline)
    # Counted as Step Functions would: each chunk's task events in the parent's history.
    (_, child), *_ = _children(definition)
    per_chunk = _history(child) - 2
    assert per_chunk * math.ceil(ROWS / jobs.CHUNK_ROWS) > MAX_HISTORY


def test_every_chunk_limit_the_definitions_rely_on_holds_in_the_code() -> None:
    assert jobs.CHUNK_ROWS % jobs.BATCH_GET == 0 and jobs.BATCH_GET <= 100 and jobs.BATCH_WRITE <= 25
    # The Distributed Map's settings come from the split's output, which the tasks' settings give.
    text = (ROOT / "statemachines" / "import.asl.json").read_text()
    assert re.search(r'"MaxConcurrencyPath": "\$\.split\.concurrency"', text)
    assert re.search(r'"ToleratedFailurePercentagePath": "\$\.split\.tolerated_failure_percent"', text)
