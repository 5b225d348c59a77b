"""Distributed Maps on the local Step Functions: a failed child execution fails the Map run as Step
Functions fails it (moto's engine records the failure and goes on), within the thresholds it declares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, aws_client, start_server
from tests.e2e.test_local_workflows import finished

TEMPLATE = Path(__file__).resolve().parent / "workflows" / "distributed.yaml"
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = start_server(tmp_path_factory.mktemp("maps"), template=TEMPLATE)
    yield running
    running.stop()


def _run(server: Server, machine: str, failing: int, of: int) -> dict[str, Any]:
    sfn = aws_client(server.aws, "stepfunctions")
    items = [{"n": n, "fail": n < failing} for n in range(of)]
    name = f"{machine}-{failing}-of-{of}"
    started = sfn.start_execution(
        stateMachineArn=ARN + machine, name=name, input=json.dumps({"items": items})
    )
    arn = started["executionArn"]
    return finished(sfn, arn)


def test_without_a_threshold_one_failed_child_fails_the_map(server: Server) -> None:
    done = _run(server, "strict", 1, 6)
    assert done["status"] == "SUCCEEDED"  # the Catch took it
    error = json.loads(done["output"])["error"]
    assert error["Error"] == "States.ExceedToleratedFailureThreshold"
    assert "1 of 6 child executions failed" in error["Cause"]
    assert _run(server, "strict", 0, 6)["status"] == "SUCCEEDED"


def test_failures_within_the_tolerated_percentage_pass_and_more_fail(server: Server) -> None:
    within = _run(server, "tolerant", 3, 6)
    assert within["status"] == "SUCCEEDED"
    results = json.loads(within["output"])["results"]
    assert results.count(None) == 3  # the failed children's places
    over = _run(server, "tolerant", 4, 6)
    assert (over["status"], over.get("error")) == ("FAILED", "States.ExceedToleratedFailureThreshold")
