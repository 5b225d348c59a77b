"""The record repository: one DynamoDB request per operation, every write conditional.

Records cross this boundary as plain dicts keyed by the model's field names (`email`, `id`, ...);
the table's own key attribute names come from settings and never appear in an expression
except through ExpressionAttributeNames.
"""

from __future__ import annotations

import builtins
import random
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from serverless_crud.dal import listing
from serverless_crud.dal.attributes import Item, deserialise_item, serialise_item
from serverless_crud.dal.derived import derived, derived_names, matches
from serverless_crud.dal.expressions import Expression
from serverless_crud.errors import RecordExists, RecordNotFound, StoreUnavailable, WriteRefused
from serverless_crud.models.listing import ListQuery, Page, Record
from serverless_crud.models.preconditions import Expected
from serverless_crud.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)
_ID_ATTEMPTS = 5
#: What each write says of itself, for the history (models.history): how it was made, and the
#: version it made (a writer that does not set them, or leaves them stale, is "outside the API").
HOW, HOW_VERSION = "_how", "_how_version"
MARKERS = frozenset({HOW, HOW_VERSION})


def new_id() -> int:
    """A fresh id: microseconds since the epoch (ordered by creation), jittered against collisions."""
    return time.time_ns() // 1000 + random.randrange(1000)  # noqa: S311 (not a secret)


class DynamoRecordRepository:
    """The records in one DynamoDB table (logic.ports.RecordRepository)."""

    def __init__(self, client: DynamoDBClient, settings: Settings) -> None:
        self._client = client
        self._table = settings.table_name
        self._pk = settings.partition_key
        self._sk = settings.sort_key
        self._secret = settings.cursor_key
        self._indexes = settings.search_indexes
        self._budget = settings.search_read_budget

    # -- mapping between records and items -------------------------------------------------------
    def _key(self, email: str, record_id: int) -> Item:
        return {self._pk: {"S": email}, self._sk: {"N": str(record_id)}}

    def item_of(self, record: Record, how: str = "create") -> Item:
        """The item a create stores for `record` (for bulk writers: imports, seeding)."""
        return self._to_item(record, how)

    def _to_item(self, record: Record, how: str) -> Item:
        """The record as an item, with its derived attributes (dal/derived.py) and how it was written;
        an empty (None) field is left out: reads give it back as null."""
        marks = {HOW: how, HOW_VERSION: record.get("version", 1)}
        renamed = {
            self._pk if k == "email" else self._sk if k == "id" else k: v
            for k, v in {**record, **derived(record), **marks}.items()
            if v is not None
        }
        return serialise_item(renamed)

    def _from_item(self, item: Item) -> Record:
        """The stored values keyed by field name (unchecked: `models.validation` reads them)."""
        values = deserialise_item(item)
        # Attributes named like the key fields (an `email` attribute beside a partition key of
        # another name) are not the record's: the keys are. Derived attributes are storage's own.
        for field, attribute in (("email", self._pk), ("id", self._sk)):
            if attribute != field:
                values.pop(field, None)
        for attribute in (derived_names() | MARKERS) & values.keys():
            del values[attribute]
        record: Record = {"email": values.pop(self._pk), "id": values.pop(self._sk)}
        record.update(values)
        return record

    # -- operations --------------------------------------------------------------------------------
    def create(self, record: Record, *, assign_id: bool, how: str = "create") -> Record:
        """Put a new record; never overwrites. With `assign_id`, retries with a fresh id on collision."""
        for _ in range(_ID_ATTEMPTS if assign_id else 1):
            if assign_id:
                record = {**record, "id": new_id()}
            expression = Expression()
            condition = f"attribute_not_exists({expression.name(self._pk)})"
            try:
                self._call(
                    "put_item",
                    TableName=self._table,
                    Item=self._to_item(record, how),
                    ConditionExpression=condition,
                    **expression.params(),
                )
                return record
            except _ConditionFailed:
                continue
        raise RecordExists(f"a record with email {record['email']} and id {record['id']} exists")

    def get(self, email: str, record_id: int) -> Record | None:
        """The record with this key, or None."""
        response = self._call(
            "get_item", TableName=self._table, Key=self._key(email, record_id), ConsistentRead=True
        )
        item = response.get("Item")
        return self._from_item(item) if item else None

    def update(
        self, email: str, record_id: int, changes: Record, *, expected: Expected, how: str = "replace"
    ) -> Record:
        """Set `changes` on an existing record and bump its version, in one conditional UpdateItem
        (a missing version counts as 1, so the first write of a foreign row makes it 2)."""
        expression = Expression()
        # The derived attributes of the fields set (PUT and PATCH set every mutable field).
        changes = {**changes, **derived({**changes, "email": email, "id": record_id}, given=changes)}
        assignments = [
            f"{expression.name(k)} = {expression.value(v)}" for k, v in changes.items() if v is not None
        ]
        version = expression.name("version")
        bumped = f"if_not_exists({version}, {expression.value(1)}) + {expression.value(1)}"
        assignments.append(f"{version} = {bumped}")
        assignments.append(f"{expression.name(HOW)} = {expression.value(how)}")
        assignments.append(f"{expression.name(HOW_VERSION)} = {bumped}")
        # An emptied field is removed, as create leaves it out: reads give it back as null.
        removals = [expression.name(k) for k, v in changes.items() if v is None]
        update = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        condition = expression.condition(self._pk, expected, well_formed=True)
        try:
            response = self._call(
                "update_item",
                TableName=self._table,
                Key=self._key(email, record_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **expression.params(),
            )
        except _ConditionFailed as failure:
            raise self._why(failure) from None
        return self._from_item(response["Attributes"])

    def delete(self, email: str, record_id: int, *, expected: Expected) -> Record:
        """Delete an existing record, in one conditional DeleteItem; what it held."""
        expression = Expression()
        condition = expression.condition(self._pk, expected, well_formed=False)
        try:
            response = self._call(
                "delete_item",
                TableName=self._table,
                Key=self._key(email, record_id),
                ConditionExpression=condition,
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **expression.params(),
            )
        except _ConditionFailed as failure:
            raise self._why(failure) from None
        return self._from_item(response.get("Attributes") or self._key(email, record_id))

    def list(self, query: ListQuery) -> Page:
        """One page of a listing or search (the access patterns of docs/access-patterns.md)."""
        table = listing.Table(
            self._call, self._table, self._pk, self._sk, self._secret, self._indexes, self._budget
        )

        def accept(item: Item) -> bool:
            return matches(self._from_item(item), list(query.words), list(query.tags), query.active)

        listed = listing.list_items(table, query, accept)
        return Page(
            [self._from_item(item) for item in listed.items], listed.next_cursor, listed.stopped_early
        )

    def backfill(self, start: Item | None, page_size: int = 100) -> tuple[int, Item | None]:
        """Give one Scan page of rows the derived attributes they lack or have stale; the number
        written and where the next page starts (None: done). Each write is conditional on the row's
        version being unchanged, so it never overwrites a change made meanwhile (that change wrote
        its own derived attributes)."""
        params: dict[str, Any] = {"TableName": self._table, "Limit": page_size}
        if start:
            params["ExclusiveStartKey"] = start
        response = self._call("scan", **params)
        written = 0
        for item in response.get("Items", []):
            values = deserialise_item(item)
            if not isinstance(values.get(self._pk), str) or not isinstance(values.get(self._sk), Decimal):
                continue  # not a row this app can key
            record = self._from_item(item)
            wanted = derived(record)
            if all(values.get(k) == v for k, v in wanted.items()):
                continue
            expression = Expression()
            assignments = ", ".join(
                f"{expression.name(k)} = {expression.value(v)}" for k, v in wanted.items()
            )
            version = expression.name("version")
            unchanged = (
                f"attribute_not_exists({version})"
                if "version" not in item
                else f"{version} = {expression.value(values['version'])}"
            )
            try:
                self._call(
                    "update_item",
                    TableName=self._table,
                    Key={self._pk: item[self._pk], self._sk: item[self._sk]},
                    UpdateExpression=f"SET {assignments}",
                    ConditionExpression=f"attribute_exists({expression.name(self._pk)}) AND {unchanged}",
                    **expression.params(),
                )
                written += 1
            except _ConditionFailed:
                continue
        return written, response.get("LastEvaluatedKey")

    def read_page(
        self, partition: str | None, segment: int, segments: int, start: Item | None
    ) -> tuple[builtins.list[Record], Item | None]:
        """One page (up to 1 MB) of an export's read: the Query of `partition` in id order, or
        segment `segment` of a parallel Scan in `segments`; the records (unchecked) and where the
        next page starts (None: the read is done)."""
        params: dict[str, Any] = {"TableName": self._table}
        if start:
            params["ExclusiveStartKey"] = start
        if partition is not None:
            expression = Expression()
            params["KeyConditionExpression"] = f"{expression.name(self._pk)} = {expression.value(partition)}"
            response = self._call("query", **params, **expression.params())
        else:
            response = self._call("scan", **params, Segment=segment, TotalSegments=segments)
        return [self._from_item(item) for item in response.get("Items", [])], response.get("LastEvaluatedKey")

    # -- batches (the workflows: imports and erasures) ---------------------------------------------
    def get_many(self, keys: builtins.list[tuple[str, int]]) -> dict[tuple[str, int], Record]:
        """The stored records of up to 100 keys (one consistent BatchGetItem; keys left unprocessed
        are asked again, then StoreUnavailable)."""
        found: dict[tuple[str, int], Record] = {}
        wanted = [self._key(email, record_id) for email, record_id in dict.fromkeys(keys)]
        for _ in range(_ID_ATTEMPTS):
            if not wanted:
                break
            response = self._call(
                "batch_get_item", RequestItems={self._table: {"Keys": wanted, "ConsistentRead": True}}
            )
            for item in response.get("Responses", {}).get(self._table, []):
                record = self._from_item(item)
                found[(str(record["email"]), int(record["id"]))] = record
            wanted = (response.get("UnprocessedKeys") or {}).get(self._table, {}).get("Keys", [])
        if wanted:
            raise StoreUnavailable("BatchGetItem left keys unprocessed")
        return found

    def put_many(self, records: builtins.list[Record], how: str = "import") -> builtins.list[Record]:
        """Write up to 25 records in one BatchWriteItem (unconditional: the caller checked); returns
        the records DynamoDB left unprocessed (throttled), for the caller to retry."""
        return self._batch_write([{"PutRequest": {"Item": self._to_item(r, how)}} for r in records], records)

    def delete_many(self, keys: builtins.list[tuple[str, int]]) -> builtins.list[tuple[str, int]]:
        """Delete up to 25 records in one BatchWriteItem; returns the keys left unprocessed."""
        requests = [{"DeleteRequest": {"Key": self._key(email, record_id)}} for email, record_id in keys]
        return self._batch_write(requests, keys)

    def _batch_write(
        self, requests: builtins.list[dict[str, Any]], originals: builtins.list[Any]
    ) -> builtins.list[Any]:
        if not requests:
            return []
        response = self._call("batch_write_item", RequestItems={self._table: requests})
        left = (response.get("UnprocessedItems") or {}).get(self._table, [])
        if not left:
            return []
        pending = [_request_key(self._pk, self._sk, r) for r in left]
        by_key = {_request_key(self._pk, self._sk, r): o for r, o in zip(requests, originals, strict=True)}
        return [by_key[key] for key in pending]

    # -- errors ------------------------------------------------------------------------------------
    def _why(self, failure: _ConditionFailed) -> Exception:
        if failure.item is None:
            return RecordNotFound("no record has that email and id")
        return WriteRefused(self._from_item(failure.item))

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as EndpointUnreachable

        try:
            response: dict[str, Any] = getattr(self._client, operation)(**params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed(cast("Item | None", error.response.get("Item"))) from None
            if code in _UNAVAILABLE_CODES:
                raise StoreUnavailable(code) from error
            raise
        except (HTTPClientError, EndpointUnreachable) as error:  # unreachable or timed out after retries
            raise StoreUnavailable(type(error).__name__) from error
        return response


def _request_key(pk: str, sk: str, request: dict[str, Any]) -> tuple[str, str]:
    """The key of one BatchWriteItem request (to match unprocessed requests with their records)."""
    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
    return str(body[pk]["S"]), str(body[sk]["N"])


class _ConditionFailed(Exception):
    def __init__(self, item: Item | None) -> None:
        super().__init__("condition failed")
        self.item = item
