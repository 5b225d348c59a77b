"""What the use-cases need of the world outside them: storage of records and jobs, files and
workflows. The data layer implements these (dal/), the composition root (wiring.py) plugs them in;
logic never names a DynamoDB, S3 or Step Functions class."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Protocol

from serverless_crud.models.listing import ListQuery, Page, Record
from serverless_crud.models.preconditions import Expected

Job = dict[str, Any]
if TYPE_CHECKING:
    from serverless_crud.models.history import Entry, EntryPage
Key = tuple[str, int]


class RecordRepository(Protocol):
    """Records, stored values keyed by field name. Conditional writes raise WriteRefused (the row is
    there but the condition fails) or RecordNotFound; an unreachable store StoreUnavailable."""

    def create(self, record: Record, *, assign_id: bool, how: str = "create") -> Record:
        """Store a new record (never overwrites); with `assign_id`, under a fresh id. `how` is what
        its history says of the write (models.history)."""
        ...

    def get(self, email: str, record_id: int) -> Record | None:
        """The record with this key, or None."""
        ...

    def update(
        self, email: str, record_id: int, changes: Record, *, expected: Expected, how: str = "replace"
    ) -> Record:
        """Set `changes` on an existing record and bump its version, if `expected` holds."""
        ...

    def delete(self, email: str, record_id: int, *, expected: Expected) -> Record:
        """Delete an existing record, if `expected` holds; what it held."""
        ...

    def list(self, query: ListQuery) -> Page:
        """One page of a listing (stored values, not yet checked)."""
        ...


class RecordBatches(Protocol):
    """Records in batches, for the jobs: no conditions (the caller checked), unprocessed returned."""

    def get_many(self, keys: list[Key]) -> dict[Key, Record]:
        """The stored records of up to 100 keys."""
        ...

    def put_many(self, records: list[Record], how: str = "import") -> list[Record]:
        """Write up to 25 records; those left unprocessed."""
        ...

    def delete_many(self, keys: list[Key]) -> list[Key]:
        """Delete up to 25 records; the keys left unprocessed."""
        ...

    def list(self, query: ListQuery) -> Page:
        """One page of a listing."""
        ...

    def read_page(
        self, partition: str | None, segment: int, segments: int, start: Any
    ) -> tuple[builtins.list[Record], Any]:
        """One page of an export's read (one partition's Query, or a segment of a parallel Scan);
        the stored records and where the next page starts (None: done)."""
        ...


class JobRepository(Protocol):
    """Job records, keyed by owner and job id."""

    def create(self, job: Job) -> None:
        """Store a new job."""
        ...

    def get(self, owner: str, job_id: str) -> Job | None:
        """The job, or None."""
        ...

    def list(self, owner: str, limit: int) -> list[Job]:
        """The owner's newest jobs."""
        ...

    def update(self, owner: str, job_id: str, changes: dict[str, Any]) -> None:
        """Set `changes` on an existing job."""
        ...

    def add_counts(self, owner: str, job_id: str, counts: dict[str, int]) -> None:
        """Add to the job's counts, atomically."""
        ...


class ObjectSink(Protocol):
    """One file written as a stream: completed when the `with` block ends, discarded on an error."""

    def __enter__(self) -> ObjectSink: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def write(self, data: bytes) -> None:
        """Append `data`."""
        ...


class FileStore(Protocol):
    """The jobs' files."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write one (small) file."""
        ...

    def get(self, key: str) -> bytes:
        """Read one (small) file."""
        ...

    def get_if_exists(self, key: str) -> bytes | None:
        """Read one (small) file, or None when there is none."""
        ...

    def open(self, key: str, seen: Callable[[bytes], None] | None = None) -> IO[bytes]:
        """A reader of one file of any size, in bounded memory; `seen` is shown every byte read."""
        ...

    def get_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of one file."""
        ...

    def size(self, key: str) -> int | None:
        """The file's size in bytes, or None when there is none."""
        ...

    def keys(self, prefix: str) -> list[tuple[str, int]]:
        """The keys under `prefix` and their sizes, in key order."""
        ...

    def writer(self, key: str, content_type: str) -> ObjectSink:
        """A writer of one file of any size, in bounded memory."""
        ...

    def concatenate(self, sources: Iterable[tuple[str, int]], key: str, content_type: str) -> None:
        """Write the files `sources` (key, size) one after the other into `key`."""
        ...

    def download_url(self, key: str, filename: str, seconds: int) -> str:
        """A time-limited link that downloads the file as `filename`."""
        ...

    def upload_form(self, key: str, content_type: str, max_bytes: int, seconds: int) -> dict[str, Any]:
        """A time-limited form upload of one file to `key`, refused over `max_bytes`: {"url", "fields"}."""
        ...


class Workflows(Protocol):
    """The jobs' executions."""

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution; its id."""
        ...

    def status(self, execution_arn: str) -> tuple[str, str | None, str | None]:
        """(status, error, cause) of an execution."""
        ...


class HistoryStore(Protocol):
    """The records' history: one entry per version of a record (models.history.Entry), keyed by the
    record's key and the version, expiring as the entry says."""

    def add(self, entry: Entry) -> None:
        """Store an entry (one written already is left as it is)."""
        ...

    def add_deletion(self, entry: Entry) -> None:
        """Store a deletion's entry; who and how, if the deleter noted them first, are kept."""
        ...

    def note_deletion(self, entry: Entry) -> None:
        """Note who deleted a record and when, before or after its entry is stored."""
        ...

    def clear_deleted(self, entry: Entry) -> None:
        """The key is in use again since `entry`: its deletions before it leave the recently deleted."""
        ...

    def entries(self, email: str, record_id: int, limit: int, cursor: str | None) -> EntryPage:
        """A page of a record's entries, newest first ."""
        ...

    def version(self, email: str, record_id: int, version: int) -> Entry | None:
        """The last entry of a version of the record's current life, or None."""
        ...

    def latest(self, email: str, record_id: int) -> Entry | None:
        """The record's newest entry, or None."""
        ...

    def deleted(self, email: str | None, limit: int, cursor: str | None) -> EntryPage:
        """A page of an owner's deletions not followed by the key's reuse (None: every owner's),
        newest first."""
        ...

    def erase_owner(self, email: str) -> int:
        """Delete every entry of an owner's records; how many."""
        ...

    def mark_erasure(self, email: str, until: str | None) -> None:
        """Say that an owner's records are being erased (`until` None) or were, up to `until`: changes
        made before then are not history."""
        ...

    def erased_until(self, email: str) -> str | None:
        """Until when an owner's changes were erased ("~" while an erasure runs), or None."""
        ...
