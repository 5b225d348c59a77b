"""The record repository: one DynamoDB request per operation, every write conditional.

Records cross this boundary as plain dicts keyed by the model's field names (`email`, `id`, ...);
the table's own key attribute names come from settings and never appear in an expression
except through ExpressionAttributeNames.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

from serverless_crud.dal import cursor as cursors
from serverless_crud.dal.attributes import Item, deserialise_item, serialise, serialise_item
from serverless_crud.errors import RecordExists, RecordNotFound, StoreUnavailable, VersionMismatch
from serverless_crud.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Record = dict[str, Any]
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
_INTEGER_FIELDS = ("id", "version")


@dataclass(frozen=True)
class Page:
    """One page of a listing and the signed cursor of the next (None on the last page)."""

    items: list[Record]
    next_cursor: str | None


class RecordRepository(Protocol):
    """What the use-cases need of storage."""

    def create(self, record: Record, *, assign_id: bool) -> Record: ...

    def get(self, email: str, record_id: int) -> Record | None: ...

    def update(
        self, email: str, record_id: int, changes: Record, *, expected_versions: Sequence[int] | None
    ) -> Record: ...

    def delete(self, email: str, record_id: int, *, expected_versions: Sequence[int] | None) -> None: ...

    def list(self, email: str | None, limit: int, cursor: str | None) -> Page: ...


def new_id() -> int:
    """A fresh id: microseconds since the epoch (ordered by creation), jittered against collisions."""
    return time.time_ns() // 1000 + random.randrange(1000)  # noqa: S311 (not a secret)


class _Expression:
    """Builds placeholders: every name and value goes through #n/:v substitutions."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = serialise(value)
        return placeholder

    def version_condition(self, pk: str, expected_versions: Sequence[int] | None) -> str:
        condition = f"attribute_exists({self.name(pk)})"
        if expected_versions is not None:
            choices = ", ".join(self.value(v) for v in expected_versions)
            condition += f" AND {self.name('version')} IN ({choices})"
        return condition

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"ExpressionAttributeNames": self.names}
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params


class DynamoRecordRepository:
    """RecordRepository over one DynamoDB table."""

    def __init__(self, client: DynamoDBClient, settings: Settings) -> None:
        self._client = client
        self._table = settings.table_name
        self._pk = settings.partition_key
        self._sk = settings.sort_key
        self._secret = settings.cursor_secret

    # -- mapping between records and items -------------------------------------------------------
    def _key(self, email: str, record_id: int) -> Item:
        return {self._pk: {"S": email}, self._sk: {"N": str(record_id)}}

    def _to_item(self, record: Record) -> Item:
        renamed = {self._pk if k == "email" else self._sk if k == "id" else k: v for k, v in record.items()}
        return serialise_item(renamed)

    def _from_item(self, item: Item) -> Record:
        values = deserialise_item(item)
        record: Record = {"email": values.pop(self._pk), "id": values.pop(self._sk)}
        record.update(values)
        for field in _INTEGER_FIELDS:
            if isinstance(record.get(field), Decimal):
                record[field] = int(record[field])
        return record

    # -- operations --------------------------------------------------------------------------------
    def create(self, record: Record, *, assign_id: bool) -> Record:
        """Put a new record; never overwrites. With `assign_id`, retries with a fresh id on collision."""
        for _ in range(_ID_ATTEMPTS if assign_id else 1):
            if assign_id:
                record = {**record, "id": new_id()}
            expression = _Expression()
            condition = f"attribute_not_exists({expression.name(self._pk)})"
            try:
                self._call(
                    "put_item",
                    TableName=self._table,
                    Item=self._to_item(record),
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
        self, email: str, record_id: int, changes: Record, *, expected_versions: Sequence[int] | None
    ) -> Record:
        """Set `changes` on an existing record and bump its version, in one conditional UpdateItem."""
        expression = _Expression()
        assignments = [f"{expression.name(k)} = {expression.value(v)}" for k, v in changes.items()]
        version = expression.name("version")
        assignments.append(
            f"{version} = if_not_exists({version}, {expression.value(0)}) + {expression.value(1)}"
        )
        condition = expression.version_condition(self._pk, expected_versions)
        try:
            response = self._call(
                "update_item",
                TableName=self._table,
                Key=self._key(email, record_id),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **expression.params(),
            )
        except _ConditionFailed as failure:
            raise self._why(failure) from None
        return self._from_item(response["Attributes"])

    def delete(self, email: str, record_id: int, *, expected_versions: Sequence[int] | None) -> None:
        """Delete an existing record, in one conditional DeleteItem."""
        expression = _Expression()
        condition = expression.version_condition(self._pk, expected_versions)
        try:
            self._call(
                "delete_item",
                TableName=self._table,
                Key=self._key(email, record_id),
                ConditionExpression=condition,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **expression.params(),
            )
        except _ConditionFailed as failure:
            raise self._why(failure) from None

    def list(self, email: str | None, limit: int, cursor: str | None) -> Page:
        """One page: a Query on the partition (ordered by id) when `email` is given, else a Scan."""
        scope = f"q:{email}" if email is not None else "scan"
        params: dict[str, Any] = {"TableName": self._table, "Limit": limit}
        if cursor:
            params["ExclusiveStartKey"] = cursors.decode_cursor(self._secret, scope, cursor)
        if email is not None:
            expression = _Expression()
            params["KeyConditionExpression"] = f"{expression.name(self._pk)} = {expression.value(email)}"
            params.update(expression.params())
            response = self._call("query", **params)
        else:
            response = self._call("scan", **params)
        last_key = response.get("LastEvaluatedKey")
        return Page(
            items=[self._from_item(item) for item in response.get("Items", [])],
            next_cursor=cursors.encode_cursor(self._secret, scope, last_key) if last_key else None,
        )

    # -- errors ------------------------------------------------------------------------------------
    def _why(self, failure: _ConditionFailed) -> Exception:
        if failure.item is None:
            return RecordNotFound("no record has that email and id")
        version = self._from_item(failure.item).get("version", 0)
        return VersionMismatch(int(version))

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


class _ConditionFailed(Exception):
    def __init__(self, item: Item | None) -> None:
        super().__init__("condition failed")
        self.item = item
