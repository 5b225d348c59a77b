"""Lambda's asynchronous invocations: queued, run, retried, then sent to a destination or a dead-letter queue.

What `InvocationType: Event` at the endpoint, an SNS topic, an S3 notification, an EventBridge rule or a
schedule hands a function is queued here (and journaled before the caller is answered: an accepted
event survives a restart, `kill -9` included), then run by the function's own instances, as many at once
as it may have. A function error or timeout is retried as Lambda retries it: up to
`MaximumRetryAttempts` more times (2 unless the function's `EventInvokeConfig` says otherwise), the
first retry a minute later and the second two minutes later (`--async-retry-delay` scales both), and
not once the event is older than `MaximumEventAgeInSeconds` (6 hours). Then the outcome goes where the
function's configuration says: `OnSuccess`/`OnFailure` destinations (SQS, SNS, Lambda, EventBridge)
get Lambda's invocation record; without an `OnFailure` destination, the function's `DeadLetterQueue`
(SQS or SNS) gets the event with `RequestID`, `ErrorCode` and `ErrorMessage` attributes.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from serverless_local.journal import Store
from serverless_local.services.lambda_.invocation import FunctionError, PayloadTooLarge, Result, Success
from serverless_local.targets import Delivery, TargetError, Targets

#: Lambda's defaults for asynchronous invocation.
MAX_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 6 * 3600
#: Lambda's limit on an asynchronous event (a larger one is refused when it is submitted).
MAX_ASYNC_PAYLOAD_BYTES = 256 * 1024
COMPACT_AFTER_BYTES = 4 * 1024 * 1024


@dataclass
class QueuedEvent:
    """One accepted asynchronous invocation."""

    id: str
    function: str
    event: Any
    queued_at: float
    attempts: int = 0
    due: float = 0.0

    def entry(self) -> dict[str, Any]:
        """Its journal entry."""
        return {
            "op": "queued",
            "id": self.id,
            "function": self.function,
            "event": self.event,
            "queued_at": self.queued_at,
            "attempts": self.attempts,
            "due": self.due,
        }


@dataclass
class InvokeConfig:
    """What a function's `EventInvokeConfig` and `DeadLetterQueue` say (Lambda's defaults otherwise)."""

    max_retries: int = MAX_RETRY_ATTEMPTS
    max_age: float = MAX_EVENT_AGE_SECONDS
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None


@dataclass
class _FunctionQueue:
    heap: list[tuple[float, int, str]] = field(default_factory=list)
    ready: threading.Condition = field(default_factory=threading.Condition)
    threads: list[threading.Thread] = field(default_factory=list)


#: Runs one event synchronously: (function, event) -> Lambda's outcome.
RunEvent = Callable[[str, Any], Result]
#: The configuration of a function, by logical id: (its ARN, its config).
ConfigOf = Callable[[str], tuple[str, InvokeConfig]]


class AsyncInvocations:
    """The queue of every function's asynchronous events, journaled in `store`."""

    def __init__(
        self,
        store: Store,
        run: RunEvent,
        config_of: ConfigOf,
        targets: Targets,
        concurrency: int,
        retry_delay: float,
        log: Callable[[str, str], None],
    ) -> None:
        self.store = store
        self.run = run
        self.config_of = config_of
        self.targets = targets
        self.concurrency = max(1, concurrency)
        self.retry_delay = retry_delay
        self.log = log
        self._events: dict[str, QueuedEvent] = {}
        self._queues: dict[str, _FunctionQueue] = {}
        self._lock = threading.Lock()
        self._order = itertools.count()
        self._stopped = False
        self._compacting = threading.Lock()
        self.delivered = 0

    # -- accepting -----------------------------------------------------------------------------------
    def submit(self, function: str, event: Any) -> str:
        """Queue `event` for `function` (a logical id); journaled before this returns. Its request id."""
        encoded = json.dumps(event)
        if len(encoded) > MAX_ASYNC_PAYLOAD_BYTES:
            raise PayloadTooLarge(
                f"the event is {len(encoded)} bytes, over Lambda's {MAX_ASYNC_PAYLOAD_BYTES} for an "
                "asynchronous invocation"
            )
        queued = QueuedEvent(str(uuid.uuid4()), function, event, time.time(), 0, time.time())
        self.store.append([queued.entry()])
        self._enqueue(queued)
        return queued.id

    def restore(self) -> tuple[int, list[str]]:
        """Queue again what the journal holds that was not done; how many, and what was repaired or
        set aside (in sentences)."""
        pending: dict[str, QueuedEvent] = {}
        recovered = self.store.recover()
        snapshot = recovered.snapshot
        if snapshot is not None:
            for entry in snapshot.read("pending"):
                pending[entry["id"]] = _event(entry)
        for entry in recovered.journal.entries:
            if entry["op"] == "queued":
                pending[entry["id"]] = _event(entry)
            elif entry["op"] == "retry" and entry["id"] in pending:
                pending[entry["id"]].attempts = int(entry["attempts"])
                pending[entry["id"]].due = float(entry["due"])
            elif entry["op"] == "done":
                pending.pop(entry["id"], None)
        for queued in pending.values():
            self._enqueue(queued)
        if recovered.compact:
            self.compact()
        return len(pending), recovered.notes

    def pending(self) -> int:
        """Events accepted and not yet done."""
        with self._lock:
            return len(self._events)

    def stop(self) -> None:
        """Stop taking events off the queues (what is queued stays journaled)."""
        self._stopped = True
        with self._lock:
            queues = list(self._queues.values())
        for queue in queues:
            with queue.ready:
                queue.ready.notify_all()
        self.store.close()

    # -- running -------------------------------------------------------------------------------------
    def _enqueue(self, queued: QueuedEvent) -> None:
        with self._lock:
            self._events[queued.id] = queued
            queue = self._queues.get(queued.function)
            if queue is None:
                queue = self._queues[queued.function] = _FunctionQueue()
            if not queue.threads:
                for number in range(self.concurrency):
                    thread = threading.Thread(
                        target=self._work,
                        args=(queue,),
                        name=f"async-{queued.function}-{number}",
                        daemon=True,
                    )
                    queue.threads.append(thread)
                    thread.start()
        with queue.ready:
            heapq.heappush(queue.heap, (queued.due, next(self._order), queued.id))
            queue.ready.notify()

    def _work(self, queue: _FunctionQueue) -> None:
        while not self._stopped:
            with queue.ready:
                while not self._stopped:
                    if queue.heap and queue.heap[0][0] <= time.time():
                        _, _, event_id = heapq.heappop(queue.heap)
                        break
                    wait = queue.heap[0][0] - time.time() if queue.heap else None
                    queue.ready.wait(wait)
                else:
                    return
            with self._lock:
                queued = self._events.get(event_id)
            if queued is not None:
                self._attempt(queued)

    def _attempt(self, queued: QueuedEvent) -> None:
        arn, config = self.config_of(queued.function)
        if time.time() - queued.queued_at > config.max_age:
            self._finish(queued, arn, config, None, "EventAgeExceeded")
            return
        queued.attempts += 1
        try:
            outcome = self.run(queued.function, queued.event)
        except PayloadTooLarge as error:
            outcome = FunctionError("RequestEntityTooLargeException", str(error))
        if isinstance(outcome, Success):
            self._finish(queued, arn, config, outcome, "Success")
            return
        if queued.attempts > config.max_retries:
            self._finish(queued, arn, config, outcome, "RetriesExhausted")
            return
        queued.due = time.time() + self.retry_delay * queued.attempts
        self.store.append([{"op": "retry", "id": queued.id, "attempts": queued.attempts, "due": queued.due}])
        with self._lock:
            queue = self._queues[queued.function]
        with queue.ready:
            heapq.heappush(queue.heap, (queued.due, next(self._order), queued.id))
            queue.ready.notify()

    def _finish(
        self, queued: QueuedEvent, arn: str, config: InvokeConfig, outcome: Result | None, condition: str
    ) -> None:
        """Send the outcome where the configuration says, then mark the event done."""
        failed = condition != "Success"
        destination = config.on_failure if failed else config.on_success
        try:
            if destination:
                self._to_destination(destination, queued, arn, outcome, condition)
            elif failed and config.dead_letter:
                self._to_dead_letter_queue(config.dead_letter, queued, outcome)
            elif failed:
                self.log(
                    queued.function,
                    f"asynchronous event {queued.id} dropped after {queued.attempts} attempt(s) "
                    f"({condition}): the function has no OnFailure destination or dead-letter queue",
                )
        except TargetError as error:
            self.log(
                queued.function,
                f"asynchronous event {queued.id}: its outcome could not be delivered: {error}",
            )
        with self._lock:
            self._events.pop(queued.id, None)
        self.store.append([{"op": "done", "id": queued.id}])
        self.delivered += 1
        if self.store.segment_bytes > COMPACT_AFTER_BYTES and not self._compacting.locked():
            threading.Thread(target=self.compact, name="async-compaction", daemon=True).start()

    def _to_destination(
        self, destination: str, queued: QueuedEvent, arn: str, outcome: Result | None, condition: str
    ) -> None:
        record = invocation_record(queued, arn, outcome, condition)
        if destination.split(":")[2:3] == ["events"]:
            kind = "Success" if condition == "Success" else "Failure"
            payload: Any = {
                "Source": "lambda",
                "DetailType": f"Lambda Function Invocation Result - {kind}",
                "Detail": json.dumps(record),
                "Resources": [arn, destination],
            }
            self.targets.deliver(destination, Delivery(payload, source="lambda"))
        else:
            self.targets.deliver(destination, Delivery(record, source="lambda"))

    def _to_dead_letter_queue(self, queue_arn: str, queued: QueuedEvent, outcome: Result | None) -> None:
        message = outcome.error_message if isinstance(outcome, FunctionError) else "Event age exceeded"
        values = {"RequestID": queued.id, "ErrorCode": "200", "ErrorMessage": message[:1024]}
        if ":sns:" in queue_arn:
            attributes = {name: {"DataType": "String", "StringValue": v} for name, v in values.items()}
        else:
            attributes = {
                name: {"DataType": "Number" if name == "ErrorCode" else "String", "StringValue": v}
                for name, v in values.items()
            }
        self.targets.deliver(queue_arn, Delivery(queued.event, attributes=attributes, source="lambda"))

    def compact(self) -> None:
        """Fold the journal into a snapshot of the events not yet done."""
        with self._compacting:
            with self._lock:
                pending = [queued.entry() for queued in self._events.values()]
                covers = self.store.rotate()
            self.store.write_snapshot({"kind": "asynchronous-invocations"}, {"pending": pending}, covers)


def invocation_record(
    queued: QueuedEvent, arn: str, outcome: Result | None, condition: str
) -> dict[str, Any]:
    """Lambda's record of an asynchronous invocation, as its destinations receive it."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    payload: Any = None
    if isinstance(outcome, Success):
        payload = outcome.payload
    elif isinstance(outcome, FunctionError):
        response["functionError"] = "Unhandled"
        payload = outcome.payload()
    now = time.time()
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z",
        "requestContext": {
            "requestId": queued.id,
            "functionArn": f"{arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": queued.attempts,
        },
        "requestPayload": queued.event,
        "responseContext": response,
        "responsePayload": payload,
    }


def _event(entry: dict[str, Any]) -> QueuedEvent:
    return QueuedEvent(
        entry["id"],
        entry["function"],
        entry["event"],
        float(entry["queued_at"]),
        int(entry.get("attempts") or 0),
        float(entry.get("due") or 0.0),
    )
