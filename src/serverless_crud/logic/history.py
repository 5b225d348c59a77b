"""Record history: the stream consumer's use-case (one entry per change, whoever made it) and the
API's (a record's versions, one version, restoring a version, the recently deleted and their
restoration), under the same access rules as the records themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from serverless_crud.errors import RecordExists, RecordNotFound, WriteRefused
from serverless_crud.logic.access import Caller
from serverless_crud.logic.ports import HistoryStore, RecordRepository
from serverless_crud.logic.records import checked, first_found, refusal, utc_now, validate
from serverless_crud.models.fields import names
from serverless_crud.models.history import (
    DELETE,
    DELETION,
    MARKED,
    OUTSIDE,
    RESTORE,
    UNKNOWN,
    UNMARKED,
    Change,
    Entry,
    EntryPage,
    changed_fields,
    expiry,
    history_fields,
    image_of,
    version_of,
)
from serverless_crud.models.keys import key_candidates, parse_id
from serverless_crud.models.listing import Record
from serverless_crud.models.preconditions import Expected
from serverless_crud.observability import metrics

NOT_FOUND = "no record has that email and id"
#: What a restored deleted record keeps of its first life.
CREATION_FIELDS = ("created_at", "created_by", "created_by_email")
#: A sequence number is at most 40 digits: padded, they sort as numbers.
SEQUENCE_DIGITS = 40


def entry_of(change: Change, retention_days: int) -> Entry:
    """The history entry one change makes. A write that said how it was made (the API, the jobs)
    is dated and signed by the record itself (`updated_at`, `updated_by`); any other is "outside the
    API", by "unknown", at the stream's time, and gets an entry of its own even when it left the
    version as it was."""
    deleted = change.event == "REMOVE"
    image = image_of((change.old if deleted else change.new) or {})
    email, record_id = str(image.get("email")), int(image.get("id") or 0)
    marked = change.marked if not deleted else None
    at = str(image.get("updated_at")) if marked and image.get("updated_at") else change.at
    by = str(image.get("updated_by")) if marked and image.get("updated_by") else UNKNOWN
    by_email = image.get("updated_by_email") if marked else None
    changed: tuple[str, ...] = ()
    before: Record = {}
    if deleted:
        kind, how = DELETION, OUTSIDE
    else:
        kind = MARKED if marked else UNMARKED + change.sequence.zfill(SEQUENCE_DIGITS)
        how = marked or OUTSIDE
        changed = changed_fields(image_of(change.old) if change.old else None, image)
        old = image_of(change.old or {})
        before = {name: old.get(name) for name in changed}
    return Entry(
        email=email,
        id=record_id,
        version=version_of(image),
        generation=str(image.get("created_at") or ""),
        kind=kind,
        at=at,
        by=by,
        by_email=str(by_email) if by_email else None,
        how=how,
        changed=changed,
        before=before,
        image=image,
        expires=expiry(at, retention_days),
    )


class HistoryRecorder:
    """The stream consumer's use-case: each change of a batch, in the stream's order, becomes its
    entry (written once however often the change is delivered)."""

    def __init__(self, store: HistoryStore, retention_days: int) -> None:
        self._store = store
        self._retention = retention_days
        self._erasures: dict[str, str | None] = {}

    def record(self, changes: Sequence[Change]) -> None:
        """Write the entries of `changes`, in order (an error stops at the change that failed)."""
        for change in changes:
            if change.event == "MODIFY" and image_of(change.old or {}) == image_of(change.new or {}):
                continue  # nothing of the record changed (derived attributes or markers only)
            if change.event == "REMOVE":
                entry = entry_of(change, self._retention)
                if not self._erased(entry):
                    self._store.add_deletion(entry)
                    _count("HistoryDeletions")
                continue
            if change.event == "INSERT" and change.marked == RESTORE and change.new:
                # A deleted record created again: what it changed is against its last values.
                previous = self._store.latest(str(change.new.get("email")), int(change.new.get("id") or 0))
                if previous is not None and previous.kind == DELETION:
                    change = replace(change, old=previous.image)
            entry = entry_of(change, self._retention)
            if self._erased(entry):
                continue
            self._store.add(entry)
            if change.event == "INSERT":
                # The key is in use again: its earlier deletions are no longer "recently deleted".
                self._store.clear_deleted(entry)
            _count(f"HistoryEntries{entry.how.title().replace(' ', '')}")

    def _erased(self, entry: Entry) -> bool:
        """Whether the change was made before (or during) an erasure of its owner's records: the
        right to be forgotten covers it."""
        if entry.email not in self._erasures:  # once per owner and batch: an erasure is rare
            self._erasures[entry.email] = self._store.erased_until(entry.email)
        until = self._erasures[entry.email]
        return until is not None and entry.at <= until

    def done(self) -> None:
        """Forget what the batch read (the next may follow an erasure)."""
        self._erasures.clear()


class HistoryService:
    """The history routes' use-cases."""

    def __init__(
        self,
        history: HistoryStore,
        records: RecordRepository,
        retention_days: int,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._history = history
        self._records = records
        self._retention = retention_days
        self._clock = clock

    # -- reading ------------------------------------------------------------------------------------
    def versions(
        self, caller: Caller, email: str, record_id: str, limit: int, cursor: str | None
    ) -> EntryPage:
        """A record's versions, newest first (404 unless the record or its history exists)."""
        key = parse_id(record_id)

        def read(partition: str) -> EntryPage:
            page = self._history.entries(partition, key, limit, cursor)
            if not page.items and cursor is None and self._records.get(partition, key) is None:
                raise RecordNotFound(NOT_FOUND)
            return page

        return first_found(caller, email, read)

    def version(self, caller: Caller, email: str, record_id: str, version: str) -> Entry:
        """One version of a record, as it was."""
        key, wanted = parse_id(record_id), _parse_version(version)

        def read(partition: str) -> Entry:
            entry = self._history.version(partition, key, wanted)
            if entry is None:
                raise RecordNotFound("the record has no such version in its history")
            return entry

        return first_found(caller, email, read)

    def erase(self, email: str) -> int:
        """Erase an owner's history (the right to be forgotten covers it): changes made until now are
        no longer recorded, and every entry of the owner's records is deleted; how many."""
        self._history.mark_erasure(email, None)
        erased = self._history.erase_owner(email)
        self._history.mark_erasure(email, self._clock())
        return erased

    def begin_erasure(self, email: str) -> None:
        """Stop recording an owner's changes while their records are erased."""
        self._history.mark_erasure(email, None)

    def deleted(self, caller: Caller, email: str | None, limit: int, cursor: str | None) -> EntryPage:
        """The owner's records deleted within the retention period (every owner's for those who see
        everything and name none), newest deletion first."""
        partition = caller.listing_partition(email)
        if partition is None:
            return self._history.deleted(None, limit, cursor)
        for candidate in key_candidates(partition):
            page = self._history.deleted(candidate, limit, cursor)
            if page.items or cursor is not None:
                return page
        return EntryPage([], None)

    # -- writing ------------------------------------------------------------------------------------
    def note_deletion(self, caller: Caller, deleted: Record) -> None:
        """Say who deleted a record, through the API (its stream record cannot: it carries no user)."""
        at = self._clock()
        self._history.note_deletion(
            Entry(
                email=str(deleted["email"]),
                id=int(deleted["id"]),
                version=version_of(deleted),
                generation=str(deleted.get("created_at") or ""),
                kind=DELETION,
                at=at,
                by=caller.subject or UNKNOWN,
                by_email=caller.email,
                how=DELETE,
                image=image_of(deleted),
                expires=expiry(at, self._retention),
            )
        )

    def restore_version(
        self, caller: Caller, email: str, record_id: str, version: str, expected: Expected
    ) -> Record:
        """Write a version's values as the record's next version (If-Match honoured); a deleted
        record is created again, continuing its version sequence."""
        key, wanted = parse_id(record_id), _parse_version(version)

        def restore(partition: str) -> Record:
            entry = self._history.version(partition, key, wanted)
            if entry is None:
                raise RecordNotFound("the record has no such version in its history")
            fields = self._restorable(entry.image)
            if self._records.get(partition, key) is None:
                latest = self._history.latest(partition, key)
                return self._recreate(caller, entry.image, fields, latest or entry)
            fields.update(_stamp(caller, self._clock()))
            try:
                return self._records.update(partition, key, fields, expected=expected, how=RESTORE)
            except WriteRefused as refused:
                raise refusal(refused.current, fields=frozenset({"version", "created_at"})) from None

        return checked(first_found(caller, email, restore))

    def restore_deleted(self, caller: Caller, email: str, record_id: str) -> Record:
        """Create a deleted record again with its last values, continuing its version sequence (409
        when its key is in use again)."""
        key = parse_id(record_id)

        def restore(partition: str) -> Record:
            latest = self._history.latest(partition, key)
            if latest is None or latest.kind != DELETION:
                if self._records.get(partition, key) is not None:
                    raise RecordExists("a record with that email and id exists: it is not deleted")
                raise RecordNotFound("no deleted record has that email and id")
            return self._recreate(caller, latest.image, self._restorable(latest.image), latest)

        return checked(first_found(caller, email, restore))

    def _restorable(self, image: Record) -> Record:
        """A version's values as a replace would write them (today's rules: 422 if they break them)."""
        return validate("RecordFields", {k: v for k, v in image.items() if k in history_fields()})

    def _recreate(self, caller: Caller, image: Record, fields: Record, latest: Entry) -> Record:
        now = self._clock()
        record = {
            **fields,
            **{name: image.get(name) for name in CREATION_FIELDS if name in names()},
            "email": latest.email,
            "id": latest.id,
            "version": latest.version + 1,
            **_stamp(caller, now),
        }
        record["created_at"] = record.get("created_at") or now
        try:
            return self._records.create(record, assign_id=False, how=RESTORE)
        except RecordExists:
            raise RecordExists(
                "a record with that email and id exists again: restore it as a version"
            ) from None


def _stamp(caller: Caller, now: str) -> Record:
    """The server fields a write by `caller` at `now` sets (the updater's email where the model has it)."""
    stamp: Record = {"updated_at": now, "updated_by": caller.subject}
    if "updated_by_email" in names():
        stamp["updated_by_email"] = caller.email
    return stamp


def _parse_version(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1 <= len(text) <= 12) or int(text) < 1:
        from serverless_crud.errors import InvalidParameter

        raise InvalidParameter("the version must be a whole number from 1")
    return int(text)


def _count(metric: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
