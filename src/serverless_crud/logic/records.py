"""Record use-cases: create, read, replace, merge-patch, delete and list.

Every row a use-case returns has been read through the Record schema (`present`): rows written by
other tools get the documented values for what they lack, and a row that breaks the rules is a
clear InvalidStoredRecord naming the fields, never a raw item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from serverless_crud.errors import (
    FieldError,
    InvalidCursor,
    InvalidInput,
    InvalidStoredRecord,
    RecordBusy,
    RecordNotFound,
    VersionMismatch,
    WriteRefused,
)
from serverless_crud.logic.access import Caller
from serverless_crud.logic.ports import RecordRepository
from serverless_crud.models.keys import key_candidates, parse_id
from serverless_crud.models.listing import ListQuery, Page, Record
from serverless_crud.models.preconditions import MISSING_VERSION, Expected
from serverless_crud.models.validation import validator
from serverless_crud.observability import logger, metrics

KEY_FIELDS = ("email", "id")
#: The stored fields PUT keeps, which its condition requires to be well-formed.
KEPT_BY_PUT = frozenset({"version", "created_at"})
#: Merge patches re-read and retry when another write lands between their read and their write.
PATCH_ATTEMPTS = 3
T = TypeVar("T")


def utc_now() -> str:
    """The current time as RFC 3339 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate(schema: str, body: dict[str, Any], *, defaults: bool = True) -> dict[str, Any]:
    """A request body's clean values under `schema`, or InvalidInput naming each bad field."""
    values, errors = validator(schema)(body, defaults=defaults)
    if errors:
        raise InvalidInput(errors)
    return values


def present(stored: Record) -> tuple[Record, list[FieldError]]:
    """A stored row as the API shows it, and what in it breaks the record's rules."""
    return validator("Record", stored=True)(stored)


def _count(metric: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


class DeletionNotes(Protocol):
    """Where a deletion through the API says who made it (the history: logic.history)."""

    def note_deletion(self, caller: Caller, deleted: Record) -> None:
        """Note that `caller` deleted the record that held `deleted`."""
        ...


class RecordService:
    """The operations on records that the API exposes."""

    def __init__(
        self,
        repository: RecordRepository,
        clock: Callable[[], str] = utc_now,
        history: DeletionNotes | None = None,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._history = history

    def create(self, caller: Caller, body: dict[str, Any]) -> Record:
        """Validate and store a new record; the server assigns the id when the body has none."""
        values = validate("RecordCreate", body)
        caller.require_access(values["email"])
        now = self._clock()
        record = {
            **values,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": caller.subject,
            "updated_by": caller.subject,
            "created_by_email": caller.email,
            "updated_by_email": caller.email,
        }
        created = self._repository.create(record, assign_id=values["id"] is None)
        _count("RecordsCreated")
        return created

    def get(self, caller: Caller, email: str, record_id: str) -> Record:
        """The record with this key, or RecordNotFound / InvalidStoredRecord."""
        record_key = parse_id(record_id)

        def read(key: str) -> Record:
            stored = self._repository.get(key, record_key)
            if stored is None:
                raise RecordNotFound("no record has that email and id")
            return checked(stored)

        return first_found(caller, email, read)

    def replace(
        self, caller: Caller, email: str, record_id: str, body: dict[str, Any], expected: Expected
    ) -> Record:
        """Replace every mutable field of an existing record (never creates one)."""
        record_key = parse_id(record_id)
        changes = validate("RecordFields", _without_key(body, email, record_key))
        changes.update(updated_at=self._clock(), **caller.as_updater())

        def write(key: str) -> Record:
            try:
                return self._repository.update(key, record_key, changes, expected=expected, how="replace")
            except WriteRefused as refused:
                raise refusal(refused.current, fields=KEPT_BY_PUT) from None

        updated = checked(first_found(caller, email, write))
        _count("RecordsUpdated")
        return updated

    def patch(
        self, caller: Caller, email: str, record_id: str, body: dict[str, Any], expected: Expected
    ) -> Record:
        """Apply a JSON Merge Patch (RFC 7396): given fields are set, null resets a field to its
        default. The merged record must pass exactly the rules of PUT, so the stored record is
        read first and the write is conditional on the version read."""
        record_key = parse_id(record_id)
        changes = validate("RecordPatch", _without_key(body, email, record_key), defaults=False)

        def read_merge_write(key: str) -> Record:
            for _ in range(PATCH_ATTEMPTS):
                stored = self._repository.get(key, record_key)
                if stored is None:
                    raise RecordNotFound("no record has that email and id")
                current, problems = present(stored)
                _check(expected, current["version"], problems)
                # A field the patch does not set keeps its stored value, which must itself be valid.
                if kept := [p for p in problems if p.field.split(".")[0] not in changes]:
                    raise InvalidStoredRecord(kept)
                merged = {
                    name: current[name] for name in validator("RecordFields").known if name not in changes
                }
                merged.update({name: value for name, value in changes.items() if value is not None})
                fields = validate("RecordFields", merged)
                fields.update(updated_at=self._clock(), **caller.as_updater())
                version_read = stored.get("version", MISSING_VERSION)
                try:
                    return self._repository.update(
                        key, record_key, fields, expected=Expected(stored=int(version_read)), how="patch"
                    )
                except WriteRefused:
                    continue  # another write landed since the read: read again
            raise RecordBusy("the record kept changing while the patch was applied; retry")

        updated = checked(first_found(caller, email, read_merge_write))
        _count("RecordsUpdated")
        return updated

    def delete(self, caller: Caller, email: str, record_id: str, expected: Expected) -> None:
        """Delete an existing record, or RecordNotFound."""
        record_key = parse_id(record_id)

        def delete(key: str) -> Record:
            try:
                return self._repository.delete(key, record_key, expected=expected)
            except WriteRefused as refused:
                raise refusal(refused.current, fields=frozenset({"version"})) from None

        deleted = first_found(caller, email, delete)
        _count("RecordsDeleted")
        if self._history is not None:
            try:
                self._history.note_deletion(caller, deleted)
            except Exception:  # the record is deleted: its history says "outside the API" instead
                logger.exception("who deleted the record could not be noted in its history")

    def list(self, caller: Caller, query: ListQuery) -> Page:
        """One page of records: the partition `query` names, else all; a caller who does not see
        everything lists their own partition (naming another's is Forbidden).

        A row whose stored attributes break the record's rules is left out of the page (and
        logged): GET of its key says what is wrong, PUT repairs it, DELETE removes it.
        """
        email = query.partition
        if email is not None and caller.email is not None and caller.email in key_candidates(email):
            email = caller.email
        page = self._page(replace(query, partition=caller.listing_partition(email)))
        items = []
        for stored in page.items:
            record, problems = present(stored)
            if problems:
                logger.warning(
                    "a stored row breaks the record rules; left out of the listing",
                    extra={"key": [str(stored.get(k)) for k in KEY_FIELDS], "problems": _sentences(problems)},
                )
            else:
                items.append(record)
        return Page(items, page.next_cursor, page.stopped_early)

    def _page(self, query: ListQuery) -> Page:
        """A listing's page; a partition is looked up by its candidate keys (see key_candidates): the
        first that holds records, or for a next page the one its cursor was issued for."""
        if query.partition is None:
            return self._repository.list(query)
        candidates = key_candidates(query.partition)
        for index, key in enumerate(candidates):
            last = index == len(candidates) - 1
            try:
                page = self._repository.list(replace(query, partition=key))
            except InvalidCursor:
                if last:
                    raise
                continue
            if page.items or query.cursor or last:
                return page
        return Page([], None)  # longer than any DynamoDB key: no row can have it


def first_found(caller: Caller, email: str, operation: Callable[[str], T]) -> T:
    """`operation` on the first of the URL email's candidate keys that names a record; a partition
    the caller may not access holds nothing for them (404: existence is not revealed)."""
    candidates = [key for key in key_candidates(email) if caller.may_access(key)]
    if not candidates:
        raise RecordNotFound("no record has that email and id")
    for index, key in enumerate(candidates):
        try:
            return operation(key)
        except RecordNotFound:
            if index == len(candidates) - 1:
                raise
    raise RecordNotFound("no record has that email and id")


def checked(stored: Record) -> Record:
    """The stored row as the API shows it, or InvalidStoredRecord naming what breaks the rules."""
    record, problems = present(stored)
    if problems:
        raise InvalidStoredRecord(problems)
    return record


def _check(expected: Expected, version: int, problems: list[FieldError]) -> None:
    """Raise if the preconditions fail for a record at `version` (read by a merge patch)."""
    if any(p.field == "version" for p in problems):
        raise InvalidStoredRecord([p for p in problems if p.field == "version"])
    if not expected.allows(version):
        raise VersionMismatch(version)


def refusal(current: Record, *, fields: frozenset[str]) -> Exception:
    """Why a conditional write was refused: a stored server field it cannot work with (409), or
    a precondition on the version (412)."""
    record, problems = present(current)
    if blocking := [p for p in problems if p.field in fields]:
        return InvalidStoredRecord(blocking)
    return VersionMismatch(int(record["version"]))


def _sentences(problems: list[FieldError]) -> list[str]:
    return [f"{p.field} {p.message}" for p in problems]


def _without_key(body: dict[str, Any], email: str, record_id: int) -> dict[str, Any]:
    """The body less `email` and `id`, which may repeat the URL's key but never change it."""
    errors = []
    if "email" in body and not (isinstance(body["email"], str) and _same_key(body["email"], email)):
        errors.append(FieldError("email", "does not match the URL; a record's key cannot change"))
    if "id" in body and (isinstance(body["id"], bool) or body["id"] != record_id):
        errors.append(FieldError("id", "does not match the URL; a record's key cannot change"))
    if errors:
        raise InvalidInput(errors)
    return {k: v for k, v in body.items() if k not in KEY_FIELDS}


def _same_key(given: str, url_email: str) -> bool:
    """Whether the body's email names the same record as the URL's (either spelling)."""
    return bool(set(key_candidates(given)) & set(key_candidates(url_email)))
