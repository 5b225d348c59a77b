"""The Distributed Map thresholds the local Step Functions applies, and Lambda's REPORT line."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from serverless_local.services.lambda_.worker import report_line
from serverless_local.services.stepfunctions import exceeds_tolerance, tolerances

ROOT = Path(__file__).resolve().parents[2]


def test_the_tolerated_failures_each_map_declares() -> None:
    definition = (ROOT / "statemachines" / "import.asl.json").read_text()
    assert tolerances(definition) == {"WriteChunks": frozenset({"percentage"})}
    nested = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "M",
                        "States": {"M": {"Type": "Map", "ToleratedFailureCount": 3, "End": True}},
                    }
                ],
                "End": True,
            }
        },
    }
    assert tolerances(json.dumps(nested)) == {"M": frozenset({"count"})}
    assert tolerances("not JSON") == {}


def test_a_map_run_fails_as_step_functions_decides() -> None:
    nothing, count, share, both = (
        frozenset(),
        frozenset({"count"}),
        frozenset({"percentage"}),
        frozenset({"count", "percentage"}),
    )
    assert not exceeds_tolerance(nothing, 0, 10, 0, 0)
    assert exceeds_tolerance(nothing, 1, 10, 0, 0)
    assert not exceeds_tolerance(count, 3, 10, 3, 0) and exceeds_tolerance(count, 4, 10, 3, 0)
    assert not exceeds_tolerance(share, 5, 10, 0, 50) and exceeds_tolerance(share, 6, 10, 0, 50)
    assert exceeds_tolerance(both, 2, 10, 1, 50) and exceeds_tolerance(both, 6, 10, 9, 50)


def test_the_report_line_is_lambdas() -> None:
    from serverless_local.services.lambda_.worker import peak_memory_kb

    line = report_line("req-1", 12.3, 1024, math.ceil(peak_memory_kb() / 1024), init_ms=150.25)
    assert re.fullmatch(
        r"REPORT RequestId: req-1\tDuration: 12\.30 ms\tBilled Duration: 13 ms\t"
        r"Memory Size: 1024 MB\tMax Memory Used: \d+ MB\tInit Duration: 150\.25 ms\t",
        line,
    ), line
    assert int(re.findall(r"Max Memory Used: (\d+)", line)[0]) > 5  # this process's peak, in MB
    assert "Init Duration" not in report_line("req-2", 1.0, 128, 40)  # only the first event has one


def test_the_peak_memory_is_the_workers_own_not_its_parents() -> None:
    import subprocess
    import sys

    from serverless_local.services.lambda_.worker import peak_memory_kb

    held = bytearray(300 * 1024 * 1024)  # this process's peak: over 300 MB
    held[::4096] = b"x" * len(held[::4096])
    child = subprocess.run(  # started as the local Lambda starts a worker (vfork, exec)
        [
            sys.executable,
            "-c",
            "from serverless_local.services.lambda_.worker import peak_memory_kb as p; print(p())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert peak_memory_kb() > 300 * 1024
    assert int(child.stdout) < 100 * 1024, child.stdout
    del held
