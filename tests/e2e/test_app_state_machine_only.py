"""tests/apps/state-machine-only: a template with no function and no API, its state machine started by a
schedule and an EventBridge rule."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, aws_client, eventually, start_app

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:counter"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("state-machine-only"), "state-machine-only")
    yield server
    server.stop()


def received(server: Server) -> list[Any]:
    """What each succeeded execution received (its output says)."""
    states = aws_client(server.aws, "stepfunctions")
    found = []
    for execution in states.list_executions(stateMachineArn=MACHINE)["executions"]:
        described = states.describe_execution(executionArn=execution["executionArn"])
        if described["status"] == "SUCCEEDED":
            found.append(json.loads(described["output"])["received"])
    return found


def test_it_starts_and_answers_404_on_the_api_port(app):
    assert "States       counter" in app.output()
    assert app.request("GET", "/").status == 404


def test_a_scheduled_rule_starts_an_execution_with_its_input(app):
    request = urllib.request.Request(f"{app.aws}/_local/schedules/CounterDaily", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["fired"].endswith(":rule/CounterDaily")

    assert eventually(lambda: received(app)) == [{"from": "schedule"}]


def test_an_event_the_rule_matches_starts_an_execution_with_the_event(app):
    aws_client(app.aws, "events").put_events(
        Entries=[{"Source": "shop.orders", "DetailType": "Placed", "Detail": json.dumps({"order": 7})}]
    )

    started = eventually(lambda: [r for r in received(app) if r.get("source")])
    assert started[0]["detail"] == {"order": 7}
    assert started[0]["detail-type"] == "Placed"
    assert started[0]["account"] == "123456789012"
