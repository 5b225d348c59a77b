"""SQS events: a function fed by a queue, through an event source mapping polled as Lambda polls it.

The poller receives up to `BatchSize` messages (10 at a time, waiting up to
`MaximumBatchingWindowInSeconds` to fill the batch), hides them for the queue's visibility timeout,
and invokes the function with Lambda's SQS event. Messages the `FilterCriteria` do not match are
deleted unseen, as Lambda deletes them. When the function succeeds the batch is deleted; with
`ReportBatchItemFailures` only the messages it did not name in `batchItemFailures` are (a response
naming an unknown id, or a malformed one, fails the whole batch). When it fails, the messages become
visible again after the visibility timeout, and once a message has been received `maxReceiveCount`
times the queue's `RedrivePolicy` moves it to the dead-letter queue (SQS does that, here moto). FIFO
queues hand one message group to one batch at a time, in order.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any, ClassVar

from serverless_local.embedded_aws import REGION
from serverless_local.services.lambda_.event_sources.base import EventSource, EventTarget
from serverless_local.services.lambda_.event_sources.filters import matcher
from serverless_local.services.lambda_.event_sources.poller import Poller, PollerContext, stable_uuid
from serverless_local.services.lambda_.invocation import Success
from serverless_local.stack import Event

#: What SAM's SQS event passes on to CreateEventSourceMapping.
_MAPPING_PROPERTIES = (
    "BatchSize",
    "Enabled",
    "FilterCriteria",
    "FunctionResponseTypes",
    "MaximumBatchingWindowInSeconds",
    "ScalingConfig",
)
#: ReceiveMessage's limit per call.
RECEIVE_LIMIT = 10


class SqsEvents(EventSource):
    """SAM `SQS` events: an event source mapping on the queue."""

    event_types: ClassVar[frozenset[str]] = frozenset({"SQS"})
    makes_mappings: ClassVar[bool] = True

    def connect(self, event: Event, target: EventTarget) -> None:
        """The mapping in moto's Lambda (its poller starts with the others)."""
        queue = str(self.required(event, "Queue"))
        spec: dict[str, Any] = {"EventSourceArn": queue, "FunctionName": target.arn}
        for name in _MAPPING_PROPERTIES:
            if name in event.properties:
                spec[name] = self.resolve(event, event.properties[name], name)
        matcher(spec.get("FilterCriteria"), where=f"{event.owner}.Events.{event.event_id}")  # checked now
        self.runtime.mappings.create(spec, stable_uuid(target.logical_id, event.event_id))
        self.connected(f"{target.logical_id} <- SQS {queue.rsplit(':', 1)[-1]}")


class SqsPoller(Poller):
    """Receives from one queue, invokes the function with batches, deletes what it handled."""

    def __init__(self, mapping: Any, context: PollerContext) -> None:
        super().__init__(mapping, context)
        self.client = context.aws.client("sqs")
        self.queue_arn = mapping.event_source_arn
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The queue's URL (found once)."""
        if self._url is None:
            name = self.queue_arn.rsplit(":", 1)[-1]
            self._url = str(self.client.get_queue_url(QueueName=name)["QueueUrl"])
        return self._url

    def poll(self) -> bool:
        mapping = self.mapping
        batch_size = int(mapping.batch_size or 10)
        window = float(mapping.max_batch_window or 0)
        keep = matcher(mapping.filter_criteria, where=f"event source mapping {mapping.uuid}")
        messages: list[dict[str, Any]] = []
        started = time.monotonic()
        while len(messages) < batch_size and not self.stopped.is_set():
            left = window - (time.monotonic() - started)
            if messages and left <= 0:
                break
            received = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(RECEIVE_LIMIT, batch_size - len(messages)),
                WaitTimeSeconds=1 if not messages else max(0, min(1, math.ceil(left))),
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(received)
            if not messages or window <= 0:
                break
        if not messages:
            return False
        records = [self.record(message) for message in messages]
        if keep is not None:
            dropped = [r for r in records if not keep(r)]
            self._delete(dropped)
            records = [r for r in records if keep(r)]
            if not records:
                return True
        outcome = self.invoke({"Records": records})
        if not isinstance(outcome, Success):
            return True  # left in the queue: visible again after the visibility timeout
        failed = _reported_failures(outcome.payload, records, mapping.function_response_types)
        self._delete([r for r in records if r["messageId"] not in failed])
        return True

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        """One message as Lambda's SQS event carries it."""
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": {
                name: _attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), RECEIVE_LIMIT):
            chunk = records[start : start + RECEIVE_LIMIT]
            self.client.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(chunk)],
            )


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda writes it (camel case, binary as base64)."""
    binary = value.get("BinaryValue")
    shaped: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [base64.b64encode(v).decode() for v in value.get("BinaryListValues") or []],
        "dataType": value.get("DataType"),
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if binary is not None:
        shaped["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
    return shaped


def _reported_failures(response: Any, records: list[dict[str, Any]], response_types: Any) -> set[str]:
    """The message ids a ReportBatchItemFailures response names (all of them if it is malformed)."""
    everything = {record["messageId"] for record in records}
    if "ReportBatchItemFailures" not in (response_types or []):
        return set()
    if response is None or (isinstance(response, dict) and not response.get("batchItemFailures")):
        return set()
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not isinstance(failures, list):
        return everything
    named = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything  # Lambda treats an unknown or empty id as the whole batch failing
        named.add(identifier)
    return named
