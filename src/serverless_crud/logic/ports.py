"""What the use-cases need of the world outside them: storage of records and jobs, files and
workflows. The data layer implements these (dal/), the composition root (wiring.py) plugs them in;
logic never names a DynamoDB, S3 or Step Functions class."""

from __future__ import annotations

from typing import Any, Protocol

from serverless_crud.models.listing import ListQuery, Page, Record
from serverless_crud.models.preconditions import Expected

Job = dict[str, Any]
Key = tuple[str, int]


class RecordRepository(Protocol):
    """Records, stored values keyed by field name. Conditional writes raise WriteRefused (the row is
    there but the condition fails) or RecordNotFound; an unreachable store StoreUnavailable."""

    def create(self, record: Record, *, assign_id: bool) -> Record:
        """Store a new record (never overwrites); with `assign_id`, under a fresh id."""
        ...

    def get(self, email: str, record_id: int) -> Record | None:
        """The record with this key, or None."""
        ...

    def update(self, email: str, record_id: int, changes: Record, *, expected: Expected) -> Record:
        """Set `changes` on an existing record and bump its version, if `expected` holds."""
        ...

    def delete(self, email: str, record_id: int, *, expected: Expected) -> None:
        """Delete an existing record, if `expected` holds."""
        ...

    def list(self, query: ListQuery) -> Page:
        """One page of a listing (stored values, not yet checked)."""
        ...


class RecordBatches(Protocol):
    """Records in batches, for the jobs: no conditions (the caller checked), unprocessed returned."""

    def get_many(self, keys: list[Key]) -> dict[Key, Record]:
        """The stored records of up to 100 keys."""
        ...

    def put_many(self, records: list[Record]) -> list[Record]:
        """Write up to 25 records; those left unprocessed."""
        ...

    def delete_many(self, keys: list[Key]) -> list[Key]:
        """Delete up to 25 records; the keys left unprocessed."""
        ...

    def list(self, query: ListQuery) -> Page:
        """One page of a listing."""
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


class FileStore(Protocol):
    """The jobs' files."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write one file."""
        ...

    def get(self, key: str) -> bytes:
        """Read one file."""
        ...

    def get_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of one file."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """The keys under `prefix`, in order."""
        ...

    def download_url(self, key: str, filename: str, seconds: int) -> str:
        """A time-limited link that downloads the file as `filename`."""
        ...

    def upload_url(self, key: str, content_type: str, seconds: int) -> str:
        """A time-limited link a client PUTs one file to."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the file is there."""
        ...


class Workflows(Protocol):
    """The jobs' executions."""

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution; its id."""
        ...

    def status(self, execution_arn: str) -> tuple[str, str | None, str | None]:
        """(status, error, cause) of an execution."""
        ...
