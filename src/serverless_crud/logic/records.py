"""Record use-cases: create, read, replace, merge-patch, delete and list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from serverless_crud.dal.repository import Page, Record, RecordRepository
from serverless_crud.errors import FieldError, InvalidInput, InvalidParameter, RecordNotFound
from serverless_crud.models.keys import parse_email, parse_id
from serverless_crud.observability import metrics

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def utc_now() -> str:
    """The current time as RFC 3339 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_limit(raw: str | None) -> int:
    """The page size from a query string: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent."""
    if raw is None:
        return DEFAULT_LIMIT
    if raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    raise InvalidParameter(f"limit must be an integer from 1 to {MAX_LIMIT}, not {raw!r}")


def _count(metric: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


class RecordService:
    """The operations on records that the API exposes."""

    def __init__(self, repository: RecordRepository, clock: Callable[[], str] = utc_now) -> None:
        self._repository = repository
        self._clock = clock

    def create(self, body: dict[str, Any]) -> Record:
        """Validate and store a new record; the server assigns the id when the body has none."""
        from serverless_crud.models.record import RecordCreate, validate

        values = validate(RecordCreate, body)
        now = self._clock()
        record = {**values, "version": 1, "created_at": now, "updated_at": now}
        created = self._repository.create(record, assign_id=values["id"] is None)
        _count("RecordsCreated")
        return created

    def get(self, email: str, record_id: str) -> Record:
        """The record with this key, or RecordNotFound."""
        record = self._repository.get(parse_email(email), parse_id(record_id))
        if record is None:
            raise RecordNotFound("no record has that email and id")
        return record

    def replace(
        self, email: str, record_id: str, body: dict[str, Any], expected_versions: Sequence[int] | None
    ) -> Record:
        """Replace every mutable field of an existing record (never creates one)."""
        from serverless_crud.models.record import RecordFields, validate

        key = parse_email(email), parse_id(record_id)
        changes = validate(RecordFields, _without_key(body, *key))
        return self._update(key, changes, expected_versions)

    def patch(
        self, email: str, record_id: str, body: dict[str, Any], expected_versions: Sequence[int] | None
    ) -> Record:
        """Apply a JSON Merge Patch (RFC 7396): given fields are set, null resets a field."""
        from serverless_crud.models.record import FIELD_DEFAULTS, REQUIRED_FIELDS, RecordPatch, validate

        key = parse_email(email), parse_id(record_id)
        changes = validate(RecordPatch, _without_key(body, *key))
        cleared = [field for field, value in changes.items() if value is None]
        if required := [field for field in cleared if field in REQUIRED_FIELDS]:
            raise InvalidInput([FieldError(field, "is required and cannot be removed") for field in required])
        changes.update({field: FIELD_DEFAULTS[field] for field in cleared})
        return self._update(key, changes, expected_versions)

    def delete(self, email: str, record_id: str, expected_versions: Sequence[int] | None) -> None:
        """Delete an existing record, or RecordNotFound."""
        self._repository.delete(parse_email(email), parse_id(record_id), expected_versions=expected_versions)
        _count("RecordsDeleted")

    def list(self, email: str | None, limit: str | None, cursor: str | None) -> Page:
        """One page of records: a partition's (ordered by id) when `email` is given, else all."""
        partition = parse_email(email) if email is not None else None
        return self._repository.list(partition, parse_limit(limit), cursor or None)

    def _update(
        self, key: tuple[str, int], changes: Record, expected_versions: Sequence[int] | None
    ) -> Record:
        changes["updated_at"] = self._clock()
        updated = self._repository.update(*key, changes, expected_versions=expected_versions)
        _count("RecordsUpdated")
        return updated


def _without_key(body: dict[str, Any], email: str, record_id: int) -> dict[str, Any]:
    """The body less `email` and `id`, which may repeat the URL's key but never change it."""
    errors = []
    if "email" in body and (not isinstance(body["email"], str) or body["email"].strip().lower() != email):
        errors.append(FieldError("email", "does not match the URL; a record's key cannot change"))
    if "id" in body and (isinstance(body["id"], bool) or body["id"] != record_id):
        errors.append(FieldError("id", "does not match the URL; a record's key cannot change"))
    if errors:
        raise InvalidInput(errors)
    return {k: v for k, v in body.items() if k not in ("email", "id")}
