"""DynamoDB events: a function fed by a table's stream, through an event source mapping, in order.

The poller reads the stream through the embedded AWS (`GetShardIterator`, `GetRecords`, four times a
second when it is idle, as Lambda polls a shard), from its position (journaled: after a restart it
goes on where it was), or from `StartingPosition` (TRIM_HORIZON: the oldest record kept; LATEST: what
comes after the mapping is made, remembered at once). It hands the function batches of up to
`BatchSize` records (waiting up to `MaximumBatchingWindowInSeconds` to fill one) with Lambda's DynamoDB
event, each record with the table's `StreamViewType`; records the `FilterCriteria` do not match are
passed over. The shard's order is kept: a batch that fails holds back the records after it.

When the function fails, the batch is retried (after 1, 2, 4... seconds, at most 30) until it succeeds,
`MaximumRetryAttempts` retries are spent, or its oldest record is older than
`MaximumRecordAgeInSeconds` (by default: forever, within the stream's 24 hours); with
`BisectBatchOnFunctionError` a failing batch is split in two and each half is tried on its own. With
`ReportBatchItemFailures`, a response naming `batchItemFailures` moves the position to the first record
named, and retries from there (a malformed response fails the whole batch). A batch given up on goes, as
Lambda's record of it (`DDBStreamBatchInfo`), to the `DestinationConfig.OnFailure` destination (SQS or
SNS), and the stream moves on.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any, ClassVar

from serverless_local.embedded_aws import REGION
from serverless_local.services.lambda_.event_sources.base import EventSource, EventTarget
from serverless_local.services.lambda_.event_sources.filters import Matcher, matcher
from serverless_local.services.lambda_.event_sources.poller import Poller, PollerContext, stable_uuid
from serverless_local.services.lambda_.invocation import FunctionError, Result, Success
from serverless_local.stack import Event
from serverless_local.targets import Delivery, TargetError

_MAPPING_PROPERTIES = (
    "BatchSize",
    "BisectBatchOnFunctionError",
    "DestinationConfig",
    "Enabled",
    "FilterCriteria",
    "FunctionResponseTypes",
    "MaximumBatchingWindowInSeconds",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "ParallelizationFactor",
    "StartingPosition",
    "StartingPositionTimestamp",
    "TumblingWindowInSeconds",
)
#: GetRecords' limit per call.
READ_LIMIT = 1000
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 30.0


class DynamoDbEvents(EventSource):
    """SAM `DynamoDB` events: an event source mapping on the table's stream."""

    event_types: ClassVar[frozenset[str]] = frozenset({"DynamoDB"})
    makes_mappings: ClassVar[bool] = True

    def connect(self, event: Event, target: EventTarget) -> None:
        """The mapping in moto's Lambda (its poller starts with the others)."""
        stream = str(self.required(event, "Stream"))
        spec: dict[str, Any] = {"EventSourceArn": stream, "FunctionName": target.arn}
        for name in _MAPPING_PROPERTIES:
            if name in event.properties:
                spec[name] = self.resolve(event, event.properties[name], name)
        spec.setdefault("StartingPosition", "TRIM_HORIZON")
        matcher(spec.get("FilterCriteria"), where=f"{event.owner}.Events.{event.event_id}")
        if spec.get("TumblingWindowInSeconds"):
            self.context.not_emulated.append(
                f"{event.owner}.Events.{event.event_id}: TumblingWindowInSeconds (batches are not aggregated)"
            )
        self.runtime.mappings.create(spec, stable_uuid(target.logical_id, event.event_id))
        table = stream.split(":table/", 1)[-1].split("/", 1)[0]
        self.connected(f"{target.logical_id} <- DynamoDB stream of {table}")


class StreamPoller(Poller):
    """Reads one table's stream from its position, invokes the function in order, keeps the position."""

    def __init__(self, mapping: Any, context: PollerContext) -> None:
        super().__init__(mapping, context)
        self.client = context.aws.client("dynamodbstreams")
        self.stream_arn = mapping.event_source_arn
        self._shard: str | None = None
        self._iterator: str | None = None
        self._buffer: list[dict[str, Any]] = []
        self._attempts = 0
        self._retry_at = 0.0
        #: Records given up on with bisection: tried one half at a time.
        self._pending_halves: list[list[dict[str, Any]]] = []

    # -- position ------------------------------------------------------------------------------------
    @property
    def position(self) -> str | None:
        """The sequence number of the next record to hand on (None: not started)."""
        return self.context.positions.next.get(self.mapping.uuid)

    def _advance(self, after: dict[str, Any]) -> None:
        next_number = str(int(after["dynamodb"]["SequenceNumber"]) + 1)
        self.context.positions.record({"op": "position", "mapping": self.mapping.uuid, "next": next_number})

    def _start_position(self) -> str:
        described = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        shard = described["Shards"][0]
        self._shard = shard["ShardId"]
        if self.mapping.starting_position == "LATEST":
            # What comes after the mapping is made: the next number, remembered now.
            iterator = self.client.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=self._shard, ShardIteratorType="LATEST"
            )["ShardIterator"]
            first = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
            next_number = str(first + self._count_from(iterator, first))
        else:
            next_number = str(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        self.context.positions.record({"op": "position", "mapping": self.mapping.uuid, "next": next_number})
        return next_number

    def _count_from(self, iterator: str, first: int) -> int:
        """How many records the shard holds, from a LATEST iterator (moto's iterators are numbered)."""
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        from serverless_local.embedded_aws import ACCOUNT_ID

        found = dynamodbstreams_backends[ACCOUNT_ID][REGION].shard_iterators.get(iterator)
        return int(found.sequence_number) - first if found is not None else 0

    def _read(self) -> list[dict[str, Any]]:
        """Records after those buffered, from the position (a fresh iterator when there is none)."""
        if self._iterator is None:
            position = self.position or self._start_position()
            if self._shard is None:
                described = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
                self._shard = described["Shards"][0]["ShardId"]
            self._iterator = self.client.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=self._shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=position,
            )["ShardIterator"]
        answer = self.client.get_records(ShardIterator=self._iterator, Limit=READ_LIMIT)
        self._iterator = answer.get("NextShardIterator")
        return [self._record(raw) for raw in answer.get("Records", [])]

    def _record(self, raw: dict[str, Any]) -> dict[str, Any]:
        change = _binary_as_text(dict(raw["dynamodb"]))
        created = change.get("ApproximateCreationDateTime")
        if hasattr(created, "timestamp"):
            change["ApproximateCreationDateTime"] = float(int(created.timestamp()))
        return {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            "eventVersion": raw["eventVersion"],
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": change,
            "eventSourceARN": self.stream_arn,
        }

    # -- delivery ------------------------------------------------------------------------------------
    def poll(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        if self._pending_halves:
            self._deliver(self._pending_halves[0], halves=True)
            return True
        mapping = self.mapping
        batch_size = int(mapping.batch_size or 100)
        window = float(mapping.max_batch_window or 0)
        started = time.monotonic()
        while len(self._buffer) < batch_size:
            fresh = self._read()
            self._buffer.extend(fresh)
            if not self._buffer:
                return False
            if len(self._buffer) >= batch_size or time.monotonic() - started >= window:
                break
            if not fresh:
                self.stopped.wait(self.interval)
            if self.stopped.is_set():
                return False
        self._deliver(self._buffer[:batch_size], halves=False)
        return True

    def _deliver(self, batch: list[dict[str, Any]], *, halves: bool) -> None:
        keep: Matcher | None = matcher(self.mapping.filter_criteria, where=f"mapping {self.mapping.uuid}")
        handed = [record for record in batch if keep is None or keep(record)]
        if not handed:
            self._done(batch, halves)
            return
        outcome = self.invoke({"Records": handed})
        failed_from = _first_failure(outcome, handed, self.mapping.function_response_types)
        if failed_from is None:
            self._done(batch, halves)
            return
        # what succeeded before the first failure is done; the rest is retried
        done = [r for r in batch if _number(r) < failed_from]
        rest = [r for r in batch if _number(r) >= failed_from]
        if done:
            self._done(done, halves, partial=True)
        self._failed(rest, outcome, halves)

    def _done(self, batch: list[dict[str, Any]], halves: bool, *, partial: bool = False) -> None:
        self._advance(batch[-1])
        self._attempts = 0
        if halves:
            if partial:
                self._pending_halves[0] = self._pending_halves[0][len(batch) :]
            else:
                self._pending_halves.pop(0)
        else:
            del self._buffer[: len(batch)]

    def _failed(self, batch: list[dict[str, Any]], outcome: Result, halves: bool) -> None:
        mapping = self.mapping
        self._attempts += 1
        if mapping.bisect_on_error and len(batch) > 1:
            middle = len(batch) // 2
            if halves:
                self._pending_halves[0:1] = [batch[:middle], batch[middle:]]
            else:
                del self._buffer[: len(batch)]
                self._pending_halves = [batch[:middle], batch[middle:], *self._pending_halves]
            self._attempts = 0
            return
        if halves:
            self._pending_halves[0] = batch
        retries = int(mapping.max_retry_attempts if mapping.max_retry_attempts is not None else -1)
        max_age = int(mapping.max_record_age if mapping.max_record_age is not None else -1)
        oldest = float(batch[0]["dynamodb"].get("ApproximateCreationDateTime") or time.time())
        too_old = max_age >= 0 and time.time() - oldest > max_age
        if too_old or (retries >= 0 and self._attempts > retries):
            condition = "RecordAgeExceeded" if too_old else "RetryAttemptsExhausted"
            self._give_up(batch, outcome, condition)
            self._done(batch, halves)
            return
        self._retry_at = time.monotonic() + min(
            LAST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (self._attempts - 1)
        )

    def _give_up(self, batch: list[dict[str, Any]], outcome: Result, condition: str) -> None:
        """Lambda's record of the batch to the on-failure destination (or only the log, without one)."""
        destination = ((self.mapping.destination_config or {}).get("OnFailure") or {}).get("Destination")
        function = self.mapping.function_arn
        if not destination:
            self.context.log(
                function,
                f"stream batch {_number(batch[0])}..{_number(batch[-1])} skipped "
                f"({condition}): the mapping has no on-failure destination",
            )
            return
        record = failure_record(self.mapping, batch, outcome, condition, self._attempts, self._shard or "")
        try:
            self.context.targets.deliver(destination, Delivery(record, source="lambda"))
        except TargetError as error:
            self.context.log(function, f"stream batch given up on, and not delivered: {error}")


def _binary_as_text(value: Any) -> Any:
    """Binary attribute values as base64 text, as Lambda's JSON event carries them."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _binary_as_text(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_binary_as_text(inner) for inner in value]
    return value


def _number(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


def _first_failure(outcome: Result, handed: list[dict[str, Any]], response_types: Any) -> int | None:
    """The sequence number retrying starts from (None: the batch is done)."""
    if not isinstance(outcome, Success):
        return _number(handed[0])
    if "ReportBatchItemFailures" not in (response_types or []):
        return None
    response = outcome.payload
    if response is None or (isinstance(response, dict) and not response.get("batchItemFailures")):
        return None
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    numbers = {str(_number(r)) for r in handed}
    if not isinstance(failures, list):
        return _number(handed[0])
    named = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in numbers:
            return _number(handed[0])  # a malformed response: the whole batch failed
        named.append(int(identifier))
    return min(named)


def failure_record(
    mapping: Any, batch: list[dict[str, Any]], outcome: Result, condition: str, attempts: int, shard: str
) -> dict[str, Any]:
    """Lambda's on-failure record of a stream batch (its `DDBStreamBatchInfo`)."""

    def iso(record: dict[str, Any]) -> str:
        stamp = float(record["dynamodb"].get("ApproximateCreationDateTime") or 0)
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(stamp))

    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if isinstance(outcome, FunctionError):
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": mapping.function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": iso(batch[0]),
            "approximateArrivalOfLastRecord": iso(batch[-1]),
            "batchSize": len(batch),
            "streamArn": mapping.event_source_arn,
        },
    }
