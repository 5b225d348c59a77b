"""What the local runtime says it does not run of a definition, and Lambda's REPORT line."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from serverless_local.lambda_worker import report_line
from serverless_local.services.stepfunctions import unemulated

ROOT = Path(__file__).resolve().parents[2]


def test_a_distributed_maps_tolerated_failures_are_said_not_to_be_applied() -> None:
    definition = (ROOT / "statemachines" / "import.asl.json").read_text()
    assert unemulated("ImportStateMachine", definition) == [
        "ImportStateMachine.WriteChunks: ToleratedFailurePercentagePath is not applied locally (moto's"
        " engine): any failed child execution fails the Map"
    ]
    assert unemulated("ExportStateMachine", (ROOT / "statemachines" / "export.asl.json").read_text()) == []
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
    assert unemulated("X", json.dumps(nested))[0].startswith("X.M: ToleratedFailureCount")
    assert unemulated("X", "not JSON") == []


def test_the_report_line_is_lambdas() -> None:
    line = report_line("req-1", time.perf_counter() - 0.0123, 1024)
    assert re.fullmatch(
        r"REPORT RequestId: req-1\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 1024 MB\tMax Memory Used: \d+ MB",
        line,
    ), line
    assert int(line.rsplit(": ", 1)[1].split()[0]) > 5  # this process's peak, in MB
