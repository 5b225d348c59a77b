"""Lambda's asynchronous invocations: queued and journaled, retried, then sent where the function says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from serverless_local.journal import Store
from serverless_local.services.lambda_.asynchronous import AsyncInvocations, InvokeConfig
from serverless_local.services.lambda_.invocation import FunctionError, Success
from serverless_local.targets import Delivery, Targets

ARN = "arn:aws:lambda:us-east-1:123456789012:function:Fn"


class Recorder:
    """A target service that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Delivery]] = []

    def __call__(self, arn: str, delivery: Delivery) -> None:
        self.received.append((arn, delivery))


def queue(tmp_path: Path, run: Any, config: InvokeConfig, targets: Targets) -> AsyncInvocations:
    return AsyncInvocations(
        Store(tmp_path / "async", sync=False),
        run,
        lambda function: (ARN, config),
        targets,
        1,
        0.05,
        lambda f, m: None,
    )


def until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return result


def test_a_failing_event_is_retried_then_goes_to_the_on_failure_destination(tmp_path):
    attempts: list[Any] = []

    def run(function: str, event: Any) -> Any:
        attempts.append(event)
        return FunctionError("RuntimeError", "no")

    queues = Recorder()
    targets = Targets()
    targets.register("sqs", queues)
    invocations = queue(
        tmp_path, run, InvokeConfig(max_retries=1, on_failure="arn:aws:sqs:us-east-1:1:failed"), targets
    )

    invocations.submit("Fn", {"n": 1})
    assert until(lambda: queues.received)
    record = queues.received[0][1].payload
    assert len(attempts) == 2
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"n": 1}
    assert record["responsePayload"]["errorMessage"] == "no"
    assert until(lambda: invocations.pending() == 0)
    invocations.stop()


def test_without_a_destination_a_failed_event_goes_to_the_dead_letter_queue(tmp_path):
    queues = Recorder()
    targets = Targets()
    targets.register("sqs", queues)
    config = InvokeConfig(max_retries=0, dead_letter="arn:aws:sqs:us-east-1:1:dlq")
    invocations = queue(tmp_path, lambda f, e: FunctionError("ValueError", "bad input"), config, targets)

    invocations.submit("Fn", {"n": 2})
    assert until(lambda: queues.received)
    delivery = queues.received[0][1]
    assert delivery.payload == {"n": 2}
    assert delivery.attributes["ErrorMessage"] == {"DataType": "String", "StringValue": "bad input"}
    assert delivery.attributes["ErrorCode"]["DataType"] == "Number"
    invocations.stop()


def test_accepted_events_are_queued_again_after_a_restart(tmp_path):
    held = queue(tmp_path, lambda f, e: Success(None), InvokeConfig(), Targets())
    held.stop()  # accepts, never runs: as a server that died before running them
    store = Store(tmp_path / "async", sync=False)
    store.append([{"op": "queued", "id": "a", "function": "Fn", "event": {"n": 1}, "queued_at": time.time()}])
    store.append([{"op": "queued", "id": "b", "function": "Fn", "event": {"n": 2}, "queued_at": time.time()}])
    store.append([{"op": "done", "id": "a"}])
    store.close()

    ran: list[Any] = []
    again = queue(tmp_path, lambda f, e: ran.append(e) or Success(None), InvokeConfig(), Targets())
    assert again.restore() == (1, [])
    assert until(lambda: ran == [{"n": 2}])
    again.stop()
