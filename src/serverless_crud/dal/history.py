"""The history table (docs/history.md): one item per entry, keyed by the record's key and the
entry's place in its history, and the changes the records table's stream tells.

Keys: `record` = `<email>#<id>` (the id has no `#`, so the last one splits them), `entry` =
`<generation>#<version, 12 digits>#<kind>` (models.history.Entry): a record's entries sort by its
lives, then versions, then kinds. A deletion's entry carries `deleted_owner`, `deleted_all` and
`deleted_at`, the keys of the sparse `deleted` (an owner's) and `deleted_everyone` (every owner's)
indexes, until the key is in use again. `expires` is the TTL attribute.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from serverless_crud.dal.attributes import Item, deserialise, deserialise_item, serialise_item
from serverless_crud.dal.cursor import decode_cursor, encode_cursor
from serverless_crud.dal.derived import derived_names
from serverless_crud.dal.expressions import Expression
from serverless_crud.dal.repository import HOW, HOW_VERSION, MARKERS
from serverless_crud.errors import StoreUnavailable
from serverless_crud.models.history import Change, Entry, EntryPage, rfc3339, version_of
from serverless_crud.models.listing import Record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RECORD, ENTRY, DELETED_OWNER, DELETED_AT, EXPIRES = (
    "record",
    "entry",
    "deleted_owner",
    "deleted_at",
    "expires",
)
#: The partition of every owner's deletions in the `deleted_everyone` index (admins list them all).
DELETED_ALL, EVERYONE = "deleted_all", "deleted"
DELETED_INDEX, EVERYONE_INDEX = "deleted", "deleted_everyone"
VERSION_DIGITS = 12
#: An owner's erasure marker: a partition no record can have (an id is a number).
ERASURE = "erasure"
#: Sorts after every time: an erasure still running.
RUNNING = "~"
#: Who and how of a deletion: the deleter's note wins over the stream's "outside the API".
NOTED = ("at", "by", "by_email", "how")


def record_key(email: str, record_id: int) -> str:
    """The history's partition of one record."""
    return f"{email}#{record_id}"


def entry_key(entry: Entry) -> str:
    """An entry's place in its record's history."""
    return f"{entry.generation}#{entry.version:0{VERSION_DIGITS}d}#{entry.kind}"


def change_of(record: dict[str, Any], pk: str, sk: str) -> Change:
    """One record of a DynamoDB stream event (NEW_AND_OLD_IMAGES) as a change of a record."""
    stream = record["dynamodb"]
    old, new = (_image(stream.get(side), pk, sk) for side in ("OldImage", "NewImage"))
    marked = None
    raw_new = stream.get("NewImage") or {}
    if HOW in raw_new and HOW_VERSION in raw_new and new is not None:
        how, version = deserialise(raw_new[HOW]), deserialise(raw_new[HOW_VERSION])
        # The API bumps the version on every change: a writer that kept it (and the marker with it)
        # is not the API.
        bumped = old is None or version_of(new) > version_of(old)
        if isinstance(how, str) and version == version_of(new) and new.get("version") is not None and bumped:
            marked = how
    return Change(
        event=record["eventName"],
        sequence=str(stream["SequenceNumber"]),
        at=rfc3339(float(stream.get("ApproximateCreationDateTime") or datetime.now(UTC).timestamp())),
        old=old,
        new=new,
        marked=marked,
    )


def _image(item: Item | None, pk: str, sk: str) -> Record | None:
    """A stream image's values keyed by field name, without what storage adds (derived attributes,
    markers)."""
    if not item:
        return None
    values = deserialise_item(item)
    for name in (derived_names() | MARKERS) & values.keys():
        del values[name]
    record: Record = {"email": values.pop(pk, None), "id": values.pop(sk, None)}
    for field, attribute in (("email", pk), ("id", sk)):
        if attribute != field:
            values.pop(field, None)
    record.update(values)
    return record


class DynamoHistoryStore:
    """The history in its own DynamoDB table (logic.ports.HistoryStore)."""

    def __init__(self, client: DynamoDBClient, table: str, cursor_key: bytes) -> None:
        self._client = client
        self._table = table
        self._secret = cursor_key

    # -- writing ------------------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        """Put the entry unless it is there (a change delivered twice writes it once)."""
        expression = Expression()
        with contextlib.suppress(_ConditionFailed):
            self._call(
                "put_item",
                TableName=self._table,
                Item=self._item(entry),
                ConditionExpression=f"attribute_not_exists({expression.name(RECORD)})",
                **expression.params(),
            )

    def add_deletion(self, entry: Entry) -> None:
        """Write a deletion's entry, keeping who and how if the deleter's note came first."""
        values = {**self._values(entry), DELETED_OWNER: entry.email, DELETED_ALL: EVERYONE}
        self._update(entry, values, keep=NOTED)

    def note_deletion(self, entry: Entry) -> None:
        """Write who deleted the record, when, and what it held (the stream's entry keeps them)."""
        values = {**self._values(entry), DELETED_OWNER: entry.email, DELETED_ALL: EVERYONE}
        self._update(entry, values, keep=())

    def _update(self, entry: Entry, values: dict[str, Any], keep: tuple[str, ...]) -> None:
        expression = Expression()
        assignments = []
        for name, value in values.items():
            if value is None:
                continue
            placeholder, given = expression.name(name), expression.value(value)
            kept = name in keep or (name == DELETED_AT and "at" in keep)
            assignments.append(
                f"{placeholder} = if_not_exists({placeholder}, {given})"
                if kept
                else f"{placeholder} = {given}"
            )
        self._call(
            "update_item",
            TableName=self._table,
            Key=self._key(entry.email, entry.id, entry_key(entry)),
            UpdateExpression="SET " + ", ".join(assignments),
            **expression.params(),
        )

    def clear_deleted(self, entry: Entry) -> None:
        """Take the record's deletions made before `entry` (its key in use again) out of the indexes;
        a deletion after it (noted by the API before the stream delivered `entry`) stays."""
        expression = Expression()
        partition = expression.value(record_key(entry.email, entry.id))
        before = expression.value(entry_key(entry))
        condition = f"{expression.name(RECORD)} = {partition} AND {expression.name(ENTRY)} < {before}"
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "FilterExpression": f"attribute_exists({expression.name(DELETED_OWNER)})",
            "ProjectionExpression": f"{expression.name(RECORD)}, {expression.name(ENTRY)}",
            **expression.params(),
        }
        while True:
            response = self._call("query", **params)
            for item in response.get("Items", []):
                remove = Expression()
                self._call(
                    "update_item",
                    TableName=self._table,
                    Key={RECORD: item[RECORD], ENTRY: item[ENTRY]},
                    UpdateExpression=f"REMOVE {remove.name(DELETED_OWNER)}, {remove.name(DELETED_ALL)}",
                    **remove.params(),
                )
            if not response.get("LastEvaluatedKey"):
                return
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def mark_erasure(self, email: str, until: str | None) -> None:
        """Write the owner's erasure marker (until RUNNING while it runs)."""
        expression = Expression()
        self._call(
            "update_item",
            TableName=self._table,
            Key={RECORD: {"S": f"{email}#{ERASURE}"}, ENTRY: {"S": ERASURE}},
            UpdateExpression=f"SET {expression.name('until')} = {expression.value(until or RUNNING)}",
            **expression.params(),
        )

    def erased_until(self, email: str) -> str | None:
        """The owner's erasure marker, or None."""
        response = self._call(
            "get_item",
            TableName=self._table,
            Key={RECORD: {"S": f"{email}#{ERASURE}"}, ENTRY: {"S": ERASURE}},
            ConsistentRead=True,
        )
        until = response.get("Item", {}).get("until", {}).get("S")
        return str(until) if until else None

    def erase_owner(self, email: str) -> int:
        """Delete the entries of every record of an owner (found through their entries' `email`: a
        Scan of the table, as an erasure is rare), its erasure marker aside."""
        erased = 0
        params: dict[str, Any] = {"TableName": self._table}
        expression = Expression()
        params.update(
            FilterExpression=f"{expression.name('email')} = {expression.value(email)} AND "
            f"{expression.name(ENTRY)} <> {expression.value(ERASURE)}",
            ProjectionExpression=f"{expression.name(RECORD)}, {expression.name(ENTRY)}",
            **expression.params(),
        )
        while True:
            response = self._call("scan", **params)
            keys = [{RECORD: i[RECORD], ENTRY: i[ENTRY]} for i in response.get("Items", [])]
            for start in range(0, len(keys), 25):
                batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
                while batch:
                    answer = self._call("batch_write_item", RequestItems={self._table: batch})
                    batch = (answer.get("UnprocessedItems") or {}).get(self._table, [])
            erased += len(keys)
            if not response.get("LastEvaluatedKey"):
                return erased
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- reading ------------------------------------------------------------------------------------
    def entries(self, email: str, record_id: int, limit: int, cursor: str | None) -> EntryPage:
        """A page of a record's entries, newest first."""
        partition = record_key(email, record_id)
        expression = Expression()
        condition = f"{expression.name(RECORD)} = {expression.value(partition)}"
        return self._page(
            f"h:{partition}", limit, cursor, KeyConditionExpression=condition, **expression.params()
        )

    def deleted(self, email: str | None, limit: int, cursor: str | None) -> EntryPage:
        """A page of an owner's deletions (still deleted), or every owner's, newest first."""
        expression = Expression()
        if email is None:
            condition = f"{expression.name(DELETED_ALL)} = {expression.value(EVERYONE)}"
            index, scope = EVERYONE_INDEX, "d*"
        else:
            condition = f"{expression.name(DELETED_OWNER)} = {expression.value(email)}"
            index, scope = DELETED_INDEX, f"d:{email}"
        return self._page(
            scope, limit, cursor, IndexName=index, KeyConditionExpression=condition, **expression.params()
        )

    def latest(self, email: str, record_id: int) -> Entry | None:
        """The record's newest entry."""
        page = self.entries(email, record_id, 1, None)
        return page.items[0] if page.items else None

    def version(self, email: str, record_id: int, version: int) -> Entry | None:
        """The last entry of `version` in the record's current life (the newest entry's)."""
        latest = self.latest(email, record_id)
        if latest is None:
            return None
        prefix = f"{latest.generation}#{version:0{VERSION_DIGITS}d}#"
        expression = Expression()
        condition = (
            f"{expression.name(RECORD)} = {expression.value(record_key(email, record_id))} AND "
            f"begins_with({expression.name(ENTRY)}, {expression.value(prefix)})"
        )
        response = self._call(
            "query",
            TableName=self._table,
            KeyConditionExpression=condition,
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            **expression.params(),
        )
        items = response.get("Items", [])
        return self._entry(items[0]) if items else None

    def _page(self, scope: str, limit: int, cursor: str | None, **query: Any) -> EntryPage:
        params: dict[str, Any] = {
            "TableName": self._table,
            "ScanIndexForward": False,
            "Limit": limit,
            **query,
        }
        if "IndexName" not in query:
            params["ConsistentRead"] = True
        if cursor:
            params["ExclusiveStartKey"] = decode_cursor(self._secret, scope, cursor)
        response = self._call("query", **params)
        last = response.get("LastEvaluatedKey")
        return EntryPage(
            [self._entry(item) for item in response.get("Items", [])],
            encode_cursor(self._secret, scope, last) if last else None,
        )

    # -- items ------------------------------------------------------------------------------------
    def _key(self, email: str, record_id: int, entry: str) -> Item:
        return {RECORD: {"S": record_key(email, record_id)}, ENTRY: {"S": entry}}

    def _values(self, entry: Entry) -> dict[str, Any]:
        return {
            "email": entry.email,
            "id": entry.id,
            "version": entry.version,
            "at": entry.at,
            "by": entry.by,
            "by_email": entry.by_email,
            "how": entry.how,
            "changed": list(entry.changed),
            "before": entry.before,
            "image": entry.image,
            DELETED_AT: f"{entry.at}#{entry.id}",
            EXPIRES: entry.expires,
        }

    def _item(self, entry: Entry) -> Item:
        values = {k: v for k, v in self._values(entry).items() if v is not None and k != DELETED_AT}
        return {**self._key(entry.email, entry.id, entry_key(entry)), **serialise_item(values)}

    def _entry(self, item: Item) -> Entry:
        values = deserialise_item(item)
        generation, _, rest = str(values[ENTRY]).partition("#")
        _, _, kind = rest.partition("#")
        email, _, record_id = str(values[RECORD]).rpartition("#")
        expires = values.get(EXPIRES)
        return Entry(
            email=email,
            id=int(record_id),
            version=int(values.get("version") or 1),
            generation=generation,
            kind=kind,
            at=str(values.get("at") or ""),
            by=str(values.get("by") or "unknown"),
            by_email=cast("str | None", values.get("by_email")),
            how=str(values.get("how") or ""),
            changed=tuple(values.get("changed") or ()),
            before=_plain(values.get("before") or {}),
            image=_plain(values.get("image") or {}),
            expires=int(expires) if isinstance(expires, Decimal) else None,
        )

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as EndpointUnreachable

        try:
            response: dict[str, Any] = getattr(self._client, operation)(**params)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise _ConditionFailed from None
            raise StoreUnavailable(error.response.get("Error", {}).get("Code", "")) from error
        except (HTTPClientError, EndpointUnreachable) as error:
            raise StoreUnavailable(type(error).__name__) from error
        return response


def _plain(values: dict[str, Any]) -> Record:
    """A stored image as the record had it: whole numbers of integer fields back to int."""
    return {k: int(v) if k in ("id", "version") and isinstance(v, Decimal) else v for k, v in values.items()}


class _ConditionFailed(Exception):
    pass
