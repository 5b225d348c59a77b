"""A record's history: what one change of a record is, how it was made, and what it changed.

The records table's stream tells each change (`Change`); the history keeps one entry per change
(`Entry`), whatever wrote it. Only the record's declared fields are history: derived search
attributes, the writers' markers and attributes the model does not declare are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from serverless_crud.models.fields import fields, names
from serverless_crud.models.listing import Record

#: How a change was made: the API's writes and the jobs' say so; any other writer is "outside the API".
CREATE, REPLACE, PATCH, DELETE, IMPORT, ERASE, RESTORE = (
    "create",
    "replace",
    "patch",
    "delete",
    "import",
    "erase",
    "restore",
)
OUTSIDE = "outside the API"
HOWS = (CREATE, REPLACE, PATCH, DELETE, IMPORT, ERASE, RESTORE, OUTSIDE)
#: Who made a change that carries no signed-in user.
UNKNOWN = "unknown"
#: The kinds of entry a change makes, in the order they sort within one version: a write that said how
#: it was made, a write that did not (one per stream record: an outside writer may leave the version
#: as it was), the record's deletion.
MARKED, UNMARKED, DELETION = "a", "s", "z"


@dataclass(frozen=True)
class Change:
    """One change of a record, as the table's stream tells it."""

    event: Literal["INSERT", "MODIFY", "REMOVE"]
    #: The stream record's sequence number (the same when a record is delivered twice).
    sequence: str
    #: When the change was made (RFC 3339 UTC), as the stream dates it.
    at: str
    #: The record's fields before and after (None: it did not exist).
    old: Record | None
    new: Record | None
    #: How the writer said it wrote the record (None: it did not say, or not for this version).
    marked: str | None = None


@dataclass(frozen=True)
class Entry:
    """One version of a record in its history."""

    email: str
    id: int
    version: int
    #: Which life of the key it belongs to: the record's `created_at` ("" when it has none); a record
    #: created again after a deletion starts a new one, restoring a deleted one continues its own.
    generation: str
    #: MARKED, UNMARKED + the stream's sequence number, or DELETION.
    kind: str
    at: str
    by: str
    by_email: str | None
    how: str
    #: The fields this change set to another value, and their values before it.
    changed: tuple[str, ...] = ()
    before: Record = field(default_factory=dict)
    #: The record's fields after the change (before it, for a deletion).
    image: Record = field(default_factory=dict)
    #: When the entry expires (seconds since the epoch), or None to keep it forever.
    expires: int | None = None

    def summary(self) -> dict[str, Any]:
        """The entry as a history listing shows it: who, when, how, and each change's from and to."""
        return {
            "version": self.version,
            "at": self.at,
            "by": self.by,
            "by_email": self.by_email,
            "how": self.how,
            "changes": [
                {"field": name, "from": self.before.get(name), "to": self.image.get(name)}
                for name in self.changed
            ],
        }

    def detail(self) -> dict[str, Any]:
        """The entry with the whole record as it was."""
        return {**self.summary(), "record": self.image}


@dataclass(frozen=True)
class EntryPage:
    """One page of entries, newest first, and the signed cursor of the next."""

    items: list[Entry]
    next_cursor: str | None


@cache
def history_fields() -> tuple[str, ...]:
    """The fields a change may change and a diff shows: the record's own, not the key or the server's."""
    return tuple(f.name for f in fields() if not f.key and not f.server)


def image_of(values: Record) -> Record:
    """The record's declared fields of a stored image (no derived attributes, markers or strangers)."""
    declared = names()
    return {k: v for k, v in values.items() if k in declared}


def changed_fields(old: Record | None, new: Record | None) -> tuple[str, ...]:
    """The record's fields whose value differs between two images (an absent field reads as null)."""
    before, after = old or {}, new or {}
    return tuple(name for name in history_fields() if before.get(name) != after.get(name))


def version_of(values: Record | None) -> int:
    """A stored image's version (a row without one, or with a bad one, reads as version 1)."""
    version = (values or {}).get("version")
    try:
        return max(1, int(version)) if version is not None and not isinstance(version, bool) else 1
    except (TypeError, ValueError, ArithmeticError):
        return 1


def expiry(at: str, retention_days: int) -> int | None:
    """When an entry made at `at` expires, in seconds since the epoch (None: kept forever)."""
    if retention_days <= 0:
        return None
    made = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return int(made.timestamp()) + retention_days * 86_400


def rfc3339(seconds: float) -> str:
    """Seconds since the epoch as RFC 3339 UTC with milliseconds."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
