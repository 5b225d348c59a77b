"""DynamoDB Streams: moto's stream records made durable, and what DynamoDB does that moto does not.

moto appends a stream record to a table's shard on every item write (with the table's
`StreamViewType`: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES); `dynamodbstreams` reads them.
Here, under the DynamoDB lock, right after each write:
- a write that changed nothing (a PutItem of the very same item, an UpdateItem setting what was there)
  leaves no record, as DynamoDB writes none;
- each new record is journaled with the item's own change, in the same append of the same journal: a
  change and its stream record reach the disk together, or neither does;
- records older than the stream's 24 hours are trimmed.
At start the records are put back on their tables' shards with their sequence numbers, so a consumer's
position (an event source mapping's checkpoint) still names the same record after a restart.

A stream's label is part of its ARN: a template's table keeps the label its `!GetAtt .StreamArn`
resolves to; a table made at the endpoint keeps moto's, journaled with its records.
"""

from __future__ import annotations

import datetime
from typing import Any

from serverless_local.template import TEMPLATE_STREAM_LABEL

#: How long DynamoDB Streams keeps a record.
RETENTION_SECONDS = 24 * 3600


def new_records(table: Any, seen: int) -> list[Any]:
    """The records appended to `table`'s shard since it held `seen`, those that changed nothing removed
    from it."""
    shard = table.stream_shard
    if shard is None or len(shard.items) <= seen:
        return []
    fresh = shard.items[seen:]
    kept = [record for record in fresh if not _unchanged(record.record)]
    if len(kept) != len(fresh):
        del shard.items[seen:]
        for record in kept:  # renumbered: sequence numbers stay contiguous, as moto reads them
            record.record["dynamodb"]["SequenceNumber"] = str(
                shard.starting_sequence_number + len(shard.items)
            )
            shard.items.append(record)
    return kept


def _unchanged(record: dict[str, Any]) -> bool:
    if record.get("eventName") != "MODIFY":
        return False
    images = record["dynamodb"]
    if "NewImage" in images and "OldImage" in images:
        return bool(images["NewImage"] == images["OldImage"])
    return False


def stream_length(table: Any) -> int:
    """How many records `table`'s shard holds (0 without a stream)."""
    return len(table.stream_shard.items) if table.stream_shard is not None else 0


def entry(table: Any, record: Any) -> dict[str, Any]:
    """The journal entry of one stream record."""
    data = dict(record.record)
    change = dict(data["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime.datetime):
        change["ApproximateCreationDateTime"] = _epoch(created)
    data["dynamodb"] = change
    return {"op": "stream", "table": table.name, "label": table.latest_stream_label, "record": data}


def restore(table: Any, entries: list[dict[str, Any]]) -> None:
    """Put journaled records back on `table`'s shard (after its items), in order."""
    shard = table.stream_shard
    if shard is None or not entries:
        return
    from moto.dynamodb.models.table import StreamRecord

    table.latest_stream_label = entries[-1].get("label") or table.latest_stream_label
    if not shard.items:
        shard.starting_sequence_number = int(entries[0]["record"]["dynamodb"]["SequenceNumber"])
    for stored in entries:
        number = int(stored["record"]["dynamodb"]["SequenceNumber"])
        if number < shard.starting_sequence_number + len(shard.items):
            continue  # already restored (a snapshot and the journal both hold it)
        record: Any = StreamRecord.__new__(StreamRecord)
        data = dict(stored["record"])
        change = dict(data["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, int | float):  # moto keeps naive UTC datetimes
            change["ApproximateCreationDateTime"] = datetime.datetime.fromtimestamp(
                created, tz=datetime.UTC
            ).replace(tzinfo=None)
        data["dynamodb"] = change
        record.record = data
        shard.items.append(record)


def trim(table: Any, now: datetime.datetime | None = None) -> None:
    """Drop records older than the stream's retention (the first kept keeps its sequence number)."""
    shard = table.stream_shard
    if shard is None or not shard.items:
        return
    cutoff = (now or datetime.datetime.now(tz=datetime.UTC)).timestamp() - RETENTION_SECONDS
    expired = 0
    for record in shard.items:
        created = record.record["dynamodb"].get("ApproximateCreationDateTime")
        stamp = _epoch(created) if isinstance(created, datetime.datetime) else float(created or 0)
        if stamp >= cutoff:
            break
        expired += 1
    if expired:
        del shard.items[:expired]
        shard.starting_sequence_number += expired


def _epoch(moment: datetime.datetime) -> float:
    """Seconds since the epoch of a datetime, naive ones being UTC (as moto's are)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def label_template_table(table: Any) -> None:
    """A template table's stream keeps the label its `!GetAtt .StreamArn` resolves to."""
    if table.stream_shard is not None:
        table.latest_stream_label = TEMPLATE_STREAM_LABEL
