"""Jobs: bulk import, export and erasure, run by the state machines of statemachines/.

The API starts a job (`JobService`): it stores the job's record (queued), its input file for an
import, and starts the job's execution, named by the job id. The state machines' tasks
(`JobTasks`, called by `serverless_crud.tasks`) do the work and keep the job record up to date.

Import (docs/jobs.md): `split` reads the file as a stream and writes its rows to S3 in chunk objects
of CHUNK_ROWS, with a manifest listing them; a Distributed Map reads the manifest (its ItemReader)
and runs `write_chunk` on each chunk in a child execution of its own (validate with the record's
rules, BatchGetItems of 100 keys for what exists, BatchWriteItems of 25 for the rest); DynamoDB's
unprocessed items raise `WriteThrottled`, which the child retries with backoff and jitter. Each
chunk's counts and rejected rows land in S3 (`results/`), and `finish_import` adds them up, in
chunk order, into the job record and a CSV report. Memory holds one chunk, never the file.

A row without an id gets one derived from the file's content and its line, so the same file
imported twice writes the same keys (never duplicates). Every record an import writes carries
`import_row` (job and line): a retried chunk recognises its own rows. A row whose record already
holds the same values (a rerun of an interrupted import) is counted `unchanged`, not rejected.

Export: `plan` names the segments (one Query for one owner's records, or parallel Scan segments of
the table); a Distributed Map runs `export_part` in a loop per segment, each run streaming up to
PART_RECORDS records to an object of its own; `join` concatenates them (S3 copies the big ones
itself) into the one file the job links to.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from serverless_crud.errors import (
    FieldError,
    FileTooLarge,
    Forbidden,
    InvalidFile,
    InvalidInput,
    RecordNotFound,
    StoreUnavailable,
)
from serverless_crud.logic import tabular
from serverless_crud.logic.access import Caller
from serverless_crud.logic.duplicates import DuplicateKeys
from serverless_crud.logic.history import HistoryService
from serverless_crud.logic.ports import FileStore, Job, JobRepository, RecordBatches, Workflows
from serverless_crud.logic.records import present, utc_now
from serverless_crud.models.keys import MAX_ID, normalise_email
from serverless_crud.models.listing import ListQuery
from serverless_crud.models.validation import validator
from serverless_crud.observability import logger

T = TypeVar("T")

IMPORT, EXPORT, ERASURE = "import", "export", "erasure"
MODES = ("create", "upsert")
#: Rows per chunk of an import: one child execution and one task each (ten BatchGetItems of 100
#: keys, forty BatchWriteItems of 25). A chunk object is ~250 KB; a task holds one chunk.
CHUNK_ROWS = 1000
#: Keys per BatchGetItem and items per BatchWriteItem (DynamoDB's limits).
BATCH_GET = 100
BATCH_WRITE = 25
#: Records one run of an export's part task reads before it hands over to the next run (a run of
#: the loop in its segment's child execution): bounds each run's time and its object's size.
PART_RECORDS = 200_000
#: Rejections kept in the job record (all of them are in the report file).
MAX_REPORTED = 1000
#: Result objects read at once by `finish_import`.
READ_AHEAD = 16
DOWNLOAD_SECONDS = 900
UPLOAD_SECONDS = 900
IMPORT_MARK = "import_row"
#: Jobs are kept this long (the jobs table's TTL attribute `expires_at`), as their files are (the
#: bucket's lifecycle).
JOB_TTL_SECONDS = 30 * 24 * 3600
_FINISHED = ("succeeded", "failed")


@dataclass(frozen=True)
class JobLimits:
    """The limits and parallelism of jobs (template parameters, through settings)."""

    file_bytes: int
    rows: int
    line_bytes: int
    concurrency: int = 10
    tolerated_failure_percent: int = 0
    export_segments: int = 8

    @property
    def reading(self) -> tabular.Limits:
        """What reading a file is bounded by."""
        return tabular.Limits(self.line_bytes, self.rows)


class WriteThrottled(Exception):
    """DynamoDB left items of a batch unprocessed: the state machine retries the task (its name is
    the error the Retry matches)."""


@dataclass(frozen=True)
class Machines:
    """The state machines' ARNs."""

    import_arn: str
    export_arn: str
    erase_arn: str


def owner_of(caller: Caller) -> str:
    """Whose jobs a caller's are: the signed-in user's id or email; `open` without sign-in."""
    return caller.subject or caller.email or "open"


def _caller_payload(caller: Caller) -> dict[str, Any]:
    return {"subject": caller.subject, "email": caller.email, "admin": caller.admin}


def caller_from(payload: dict[str, Any]) -> Caller:
    """The caller a job was started by (its execution input)."""
    return Caller(payload.get("subject"), payload.get("email"), bool(payload.get("admin")))


def new_job_id(clock: Callable[[], str] = utc_now) -> str:
    """A job id that sorts by creation time."""
    stamp = clock().replace("-", "").replace(":", "").replace(".", "")
    return f"{stamp}-{secrets.token_hex(4)}"


class JobService:
    """What the API does with jobs: start one, read one, list the caller's."""

    def __init__(
        self,
        jobs: JobRepository,
        files: FileStore,
        workflows: Workflows,
        machines: Machines,
        limits: JobLimits,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._workflows = workflows
        self._machines = machines
        self._limits = limits
        self._clock = clock

    def start_import(self, caller: Caller, data: bytes, media_type: str, mode: str) -> Job:
        """Check the file (its size, header, lines and rows: a request body is small enough to read
        whole), store it, start the import."""
        self._check_size(len(data))
        try:
            tabular.check_header(data, media_type)
            for _ in tabular.scan(io.BytesIO(data), media_type, self._limits.reading).rows:
                pass  # the lines and rows counted (each row is checked by the job)
        except tabular.UnreadableFile as error:
            raise InvalidFile(str(error)) from None
        job = self._new(caller, IMPORT, {"mode": mode, "format": _format_of(media_type)})
        job["source_key"] = f"imports/{job['id']}/source.{job['format']}"
        self._files.put(job["source_key"], data, media_type)
        return self._start(job, self._machines.import_arn)

    def upload_for(self, caller: Caller, fmt: str, size: int | None = None) -> dict[str, Any]:
        """A presigned browser-form POST for a file too big for a request body, bounded by the file
        size limit (S3 refuses a bigger file); POST /imports names it after. `size`: what the client
        says its file has (a bigger one is refused here, before anything is uploaded)."""
        if size is not None:
            self._check_size(size)
        token = secrets.token_hex(16)
        media = tabular.FORMATS[fmt]
        form = self._files.upload_form(
            _upload_key(caller, token, fmt), media, self._limits.file_bytes, UPLOAD_SECONDS
        )
        return {
            "upload": token,
            "format": fmt,
            "upload_url": form["url"],
            "upload_fields": form["fields"],
            "content_type": media,
            "max_bytes": self._limits.file_bytes,
            "expires_in": UPLOAD_SECONDS,
        }

    def _check_size(self, size: int) -> None:
        if size > self._limits.file_bytes:
            raise FileTooLarge(
                f"the file is {size:,} bytes; an import takes at most {self._limits.file_bytes:,}"
            )

    def start_uploaded_import(self, caller: Caller, token: str, fmt: str, mode: str) -> Job:
        """Start the import of a file uploaded through `upload_for` (the caller's own upload only)."""
        if not (len(token) == 32 and all(c in "0123456789abcdef" for c in token)):
            raise InvalidInput([FieldError("upload", "is not an upload this API handed out")])
        key = _upload_key(caller, token, fmt)
        size = self._files.size(key)
        if size is None:
            raise InvalidInput(
                [
                    FieldError(
                        "upload", "has no file: POST the file to its upload_url with its upload_fields first"
                    )
                ]
            )
        self._check_size(size)
        head = self._files.get_head(key, 64 * 1024)
        try:
            tabular.check_header(head, tabular.FORMATS[fmt], partial=True)
        except tabular.UnreadableFile as error:
            raise InvalidFile(str(error)) from None
        job = self._new(caller, IMPORT, {"mode": mode, "format": fmt})
        job["source_key"] = key
        return self._start(job, self._machines.import_arn)

    def start_export(self, caller: Caller, fmt: str, email: str | None, *, with_history: bool = False) -> Job:
        """Start an export of every record the caller may see (or of one partition); with its history."""
        partition = caller.listing_partition(_partition(email) if email else None)
        options: dict[str, Any] = {"format": fmt, "email": partition}
        if with_history:
            options["include"] = ["history"]
        return self._start(self._new(caller, EXPORT, options), self._machines.export_arn)

    def start_erasure(self, caller: Caller, email: str) -> Job:
        """Start erasing every record of one partition (the caller's own, or any for an admin)."""
        partition = _partition(email)
        if not caller.may_access(partition):
            raise Forbidden("you may erase only your own records")
        return self._start(self._new(caller, ERASURE, {"email": partition}), self._machines.erase_arn)

    def _new(self, caller: Caller, kind: str, options: dict[str, Any]) -> Job:
        now = self._clock()
        job: Job = {
            "owner": owner_of(caller),
            "id": new_job_id(self._clock),
            "kind": kind,
            "status": "queued",
            "counts": {},
            "rejected": [],
            "created_at": now,
            "updated_at": now,
            "caller": _caller_payload(caller),
            "expires_at": int(datetime.now(UTC).timestamp()) + JOB_TTL_SECONDS,
        }
        job.update({k: v for k, v in options.items() if v is not None})
        return job

    def _start(self, job: Job, machine: str) -> Job:
        self._jobs.create(job)
        job["execution"] = self._workflows.start(machine, job["id"], {"job": _job_input(job)})
        self._jobs.update(job["owner"], job["id"], {"execution": job["execution"]})
        return job

    def get(self, caller: Caller, job_id: str) -> dict[str, Any]:
        """The caller's job as the API shows it."""
        job = self._jobs.get(owner_of(caller), job_id)
        if job is None:
            raise RecordNotFound("no job has that id")
        return self._view(job)

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's newest jobs."""
        return [self._view(job) for job in self._jobs.list(owner_of(caller), 100)]

    def _view(self, job: Job) -> dict[str, Any]:
        status = job["status"]
        failure = job.get("failure")
        if status not in _FINISHED and job.get("execution"):
            # The job's record is written by its tasks; an execution that ended without its last
            # task (stopped, timed out, interrupted) is known only to Step Functions.
            state, error, cause = self._workflows.status(job["execution"])
            if state != "RUNNING":
                # Its last task may have finished between the two reads: the record read again.
                job = self._jobs.get(job["owner"], job["id"]) or job
                status, failure = job["status"], job.get("failure")
                if status not in _FINISHED:
                    status, failure = "failed", describe_failure(error, cause)
        view: dict[str, Any] = {
            "id": job["id"],
            "kind": job["kind"],
            "status": status,
            "counts": {k: int(v) for k, v in (job.get("counts") or {}).items()},
            "rejected": job.get("rejected") or [],
            "created_at": job["created_at"],
            "updated_at": job["updated_at"],
        }
        for name in ("format", "mode", "email"):
            if job.get(name):
                view[name] = job[name]
        if failure:
            view["failure"] = failure
        if job["kind"] == EXPORT and status == "succeeded" and job.get("download_key"):
            filename = f"records-{job['id']}.{job['format']}"
            view["download_url"] = self._files.download_url(job["download_key"], filename, DOWNLOAD_SECONDS)
        if job["kind"] == IMPORT and view["counts"].get("rejected") and job.get("report_key"):
            filename = f"rejected-rows-{job['id']}.csv"
            view["report_url"] = self._files.download_url(job["report_key"], filename, DOWNLOAD_SECONDS)
        return view


def _upload_key(caller: Caller, token: str, fmt: str) -> str:
    """Where an upload goes: under its owner (another caller cannot start an import of it)."""
    owner = hashlib.sha256(owner_of(caller).encode()).hexdigest()[:20]
    return f"imports/uploads/{owner}/{token}.{fmt}"


def _partition(email: str) -> str:
    """An email key as stored, or InvalidInput naming the field."""
    try:
        return normalise_email(email)
    except ValueError as error:
        raise InvalidInput([FieldError("email", str(error))]) from None


def _format_of(media_type: str) -> str:
    return next(name for name, media in tabular.FORMATS.items() if media == media_type)


def _job_input(job: Job) -> dict[str, Any]:
    """What an execution needs to know of its job."""
    names = ("owner", "id", "kind", "mode", "format", "email", "source_key", "caller", "include")
    return {name: job[name] for name in names if name in job}


_FAILURES = {
    "WriteThrottled": "DynamoDB kept throttling the writes after every retry; rows written are kept,"
    " and running the import again completes it",
    "States.ExceedToleratedFailureThreshold": "more chunks failed than the import tolerates (for"
    " example, DynamoDB kept throttling); rows written are kept, and running the import again completes it",
    "States.ItemReaderFailed": "the import could not read its list of chunks; start it again",
    "States.ResultWriterFailed": "the import could not record its chunks' results; start it again",
    "States.Timeout": "the job ran out of time",
    "Sandbox.Timedout": "a step of the job ran out of time",
    "States.Runtime": "the job stopped before it finished (for example, the server was restarted)",
}


def describe_failure(error: str | None, cause: str | None) -> str:
    """Why an execution failed, in plain words (never a stack trace)."""
    if cause and "interrupted by a restart" in cause:
        return "the job was interrupted by a restart; start it again"
    return _FAILURES.get(error or "", "the job stopped on an unexpected error; start it again")


class JobTasks:
    """The state machines' tasks."""

    def __init__(
        self,
        jobs: JobRepository,
        files: FileStore,
        records: RecordBatches,
        limits: JobLimits,
        clock: Callable[[], str] = utc_now,
        history: HistoryService | None = None,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._records = records
        self._limits = limits
        self._clock = clock
        self._history = history

    def _update(self, job: dict[str, Any], **changes: Any) -> None:
        self._jobs.update(job["owner"], job["id"], {**changes, "updated_at": self._clock()})

    # -- import --------------------------------------------------------------------------------
    def split(self, job: dict[str, Any]) -> dict[str, Any]:
        """Read the file as a stream into chunk objects of CHUNK_ROWS raw rows and a manifest of them
        (the Distributed Map's items); the file's digest (for derived ids) and the Map's settings.

        Memory holds one chunk: repeated keys are found through temporary files (`DuplicateKeys`),
        and each chunk's repeats are written into its manifest item. Rows are parsed and checked by
        the chunks' tasks, in parallel; this one only reads, finds keys and cuts.
        """
        digest = hashlib.sha256()
        rows = chunks = 0
        batch: list[list[Any]] = []
        names: list[str] | None = None

        def flush() -> None:
            nonlocal chunks
            data = json.dumps({"names": names, "rows": batch}, ensure_ascii=False, separators=(",", ":"))
            self._files.put(_chunk_key(job, chunks), data.encode(), "application/json")
            chunks += 1
            batch.clear()

        with tempfile.TemporaryDirectory(prefix="split-") as scratch, DuplicateKeys(Path(scratch)) as keys:
            try:
                with self._files.open(job["source_key"], digest.update) as stream:
                    scanned = tabular.scan(stream, tabular.FORMATS[job["format"]], self._limits.reading)
                    names = scanned.names
                    for raw in scanned.rows:
                        key = tabular.key_of(names, raw)
                        if key is not None:
                            keys.add(*key, raw.line, rows)
                        batch.append([raw.line, raw.data])
                        rows += 1
                        if len(batch) == CHUNK_ROWS:
                            flush()
            except tabular.UnreadableFile as error:
                self._update(job, status="failed", failure=str(error))
                raise
            if batch:
                flush()
            manifest = f"imports/{job['id']}/manifest.json"
            self._write_manifest(job, manifest, chunks, keys.by_chunk(CHUNK_ROWS, chunks))
        counts = {"rows": rows, "written": 0, "unchanged": 0, "rejected": 0}
        self._update(job, status="running", counts=counts)
        return {
            "manifest": manifest,
            "chunks": chunks,
            "rows": rows,
            "digest": digest.hexdigest(),
            "concurrency": self._limits.concurrency,
            "tolerated_failure_percent": self._limits.tolerated_failure_percent,
        }

    def _write_manifest(
        self, job: dict[str, Any], key: str, chunks: int, repeats: Iterator[tuple[int, dict[int, int]]]
    ) -> None:
        """The manifest: a JSON array of {"index", "key"[, "repeats": {line: first line}]}, written as
        a stream in chunk order."""
        pending = next(repeats, None)
        with self._files.writer(key, "application/json") as sink:
            sink.write(b"[")
            for index in range(chunks):
                item: dict[str, Any] = {"index": index, "key": _chunk_key(job, index)}
                if pending is not None and pending[0] == index:
                    item["repeats"] = {str(line): first for line, first in pending[1].items()}
                    pending = next(repeats, None)
                sink.write((b"," if index else b"") + json.dumps(item, separators=(",", ":")).encode())
            sink.write(b"]")

    def write_chunk(self, job: dict[str, Any], chunk: dict[str, Any], digest: str) -> dict[str, int]:
        """Validate and write one chunk, its counts and rejections to S3; WriteThrottled when
        DynamoDB leaves items unprocessed (the retry writes only what is not there yet)."""
        names, rows = _chunk_rows(self._files.get(chunk["key"]))
        repeats = {int(line): first for line, first in (chunk.get("repeats") or {}).items()}
        caller = caller_from(job["caller"])
        check = validator("RecordCreate")
        rejected: list[dict[str, Any]] = []
        valid: list[tuple[int, dict[str, Any]]] = []
        for raw in rows:
            line = raw.line
            if line in repeats:
                rejected.append(
                    _rejection(line, [FieldError("id", f"repeats the key of line {repeats[line]}")])
                )
                continue
            row = tabular.parse(names, raw)
            if row.errors:
                rejected.append(_rejection(line, list(row.errors)))
                continue
            body = dict(row.body)
            if "id" not in body:
                body["id"] = derived_id(digest, line)
            values, errors = check(body)
            if not errors and not caller.may_access(values["email"]):
                errors = [FieldError("email", "is not yours: you may import only your own records")]
            if errors:
                rejected.append(_rejection(line, errors))
            else:
                valid.append((line, values))
        stored: dict[tuple[str, int], dict[str, Any]] = {}
        for start in range(0, len(valid), BATCH_GET):
            stored.update(
                self._records.get_many([(v["email"], v["id"]) for _, v in valid[start : start + BATCH_GET]])
            )
        now = self._clock()
        writes: list[dict[str, Any]] = []
        mine = unchanged = 0
        for line, values in valid:
            mark = f"{job['id']}:{line}"
            existing = stored.get((values["email"], values["id"]))
            if existing is not None and existing.get(IMPORT_MARK) == mark:
                mine += 1  # written by an earlier attempt of this chunk
                continue
            if existing is not None and _holds(existing, values):
                unchanged += 1  # an earlier import (an interrupted run of this file) wrote these values
                continue
            if existing is not None and job.get("mode") != "upsert":
                rejected.append(
                    _rejection(line, [FieldError("id", "exists: a record has this email and id")])
                )
                continue
            writes.append(_record(job, line, values, existing, caller, now))
        left = [
            record
            for start in range(0, len(writes), BATCH_WRITE)
            for record in self._records.put_many(writes[start : start + BATCH_WRITE])
        ]
        if left:  # the retry writes only what is not yet there: the rows written carry their mark
            raise WriteThrottled(f"{len(left)} of {len(writes)} writes were throttled")
        rejected.sort(key=lambda r: int(r["line"]))
        done = {"written": len(writes) + mine, "unchanged": unchanged, "rejected": len(rejected)}
        result = {**done, "rows": len(rows), "rejections": rejected}
        self._files.put(
            _result_key(job, int(chunk["index"])), json.dumps(result).encode(), "application/json"
        )
        self._jobs.add_counts(job["owner"], job["id"], done)  # progress (finish_import sets the totals)
        return done

    def finish_import(self, job: dict[str, Any], split: dict[str, Any]) -> dict[str, Any]:
        """Add up the chunks' results, in chunk order, into the job record (totals, the first
        rejections) and a CSV report of every rejected row."""
        totals = {"rows": 0, "written": 0, "unchanged": 0, "rejected": 0}
        failed = 0
        first: list[dict[str, Any]] = []
        report_key = f"imports/{job['id']}/rejected.csv"
        keys = [_result_key(job, index) for index in range(int(split["chunks"]))]
        with self._files.writer(report_key, tabular.CSV) as report:
            report.write(tabular.report_csv([]))
            for index, data in enumerate(_in_order(self._files.get_if_exists, keys)):
                if data is None:  # its child execution failed (tolerated): its rows are not in
                    result = self._failed_chunk(job, index)
                    failed += int(result["rows"])
                else:
                    result = json.loads(data)
                for name in ("rows", "written", "unchanged"):
                    totals[name] += int(result.get(name, 0))
                totals["rejected"] += len(result["rejections"])
                report.write(tabular.report_csv(result["rejections"], with_header=False))
                first.extend(result["rejections"][: MAX_REPORTED - len(first)])
        counts = {**totals, **({"failed": failed} if failed else {})}
        self._update(job, status="succeeded", counts=counts, rejected=first, report_key=report_key)
        return counts

    def _failed_chunk(self, job: dict[str, Any], index: int) -> dict[str, Any]:
        """A chunk whose child execution failed: each of its rows reported as not imported."""
        _, rows = _chunk_rows(self._files.get(_chunk_key(job, index)))
        problem = [FieldError("row", "was not imported: its chunk failed; run the import again")]
        return {"rows": len(rows), "rejections": [_rejection(raw.line, problem) for raw in rows]}

    # -- export ----------------------------------------------------------------------------------
    def plan(self, job: dict[str, Any]) -> dict[str, Any]:
        """The export's segments (their numbers: the Map's items): one Query for one owner's
        records, or parallel Scan segments."""
        self._update(job, status="running", counts={"records": 0})
        count = 1 if job.get("email") else self._limits.export_segments
        return {"segments": list(range(count)), "of": count}

    def export_part(self, job: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
        """One run of a segment's loop: up to PART_RECORDS records read from where the last run
        stopped, streamed to an object of their own; where the next run starts (cursor None: done)."""
        segment, piece = int(part["segment"]), int(part["piece"])
        fmt = job["format"]
        cursor = part.get("cursor")
        count = 0
        key = f"exports/{job['id']}/parts/{segment:05d}-{piece:05d}.{fmt}"
        with self._files.writer(key, tabular.FORMATS[fmt]) as sink:
            if segment == 0 and piece == 0:
                sink.write(tabular.header(fmt))
            while True:
                stored, cursor = self._records.read_page(job.get("email"), segment, int(part["of"]), cursor)
                records = list(_presentable(stored))
                if "history" in job.get("include", ()):
                    caller = caller_from(job["caller"])
                    records = [{**record, "history": self._versions(caller, record)} for record in records]
                sink.write(tabular.encode(records, fmt))
                count += len(records)
                if cursor is None or count >= PART_RECORDS:
                    break
        self._jobs.add_counts(job["owner"], job["id"], {"records": count})  # progress
        return {**part, "piece": piece + 1, "cursor": cursor, "records": int(part["records"]) + count}

    def join(self, job: dict[str, Any], segments: list[dict[str, Any]]) -> dict[str, Any]:
        """The parts, in segment order, concatenated into the export's one file."""
        fmt = job["format"]
        key = f"exports/{job['id']}/records.{fmt}"
        self._files.concatenate(self._files.keys(f"exports/{job['id']}/parts/"), key, tabular.FORMATS[fmt])
        counts = {"records": sum(int(s["records"]) for s in segments)}
        self._update(job, status="succeeded", counts=counts, download_key=key)
        return counts

    def _versions(self, caller: Caller, record: dict[str, Any]) -> list[dict[str, Any]]:
        """Every version of a record its history keeps, newest first (each with the record as it was)."""
        if self._history is None:
            raise StoreUnavailable("HISTORY_TABLE is not set: history is not configured")
        versions: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            try:
                page = self._history.versions(caller, str(record["email"]), str(record["id"]), 100, cursor)
            except RecordNotFound:  # deleted since it was listed
                return versions
            versions.extend(entry.detail() for entry in page.items)
            cursor = page.next_cursor
            if cursor is None:
                return versions

    # -- erasure ---------------------------------------------------------------------------------
    def count_partition(self, job: dict[str, Any]) -> dict[str, Any]:
        """How many records the partition holds (the erasure's count)."""
        if self._history is not None:
            self._history.begin_erasure(job["email"])  # its deletions are not history
        total = self._partition_size(job["email"])
        self._update(job, status="running", counts={"records": total, "erased": 0})
        return {"records": total}

    def erase_batch(self, job: dict[str, Any]) -> dict[str, Any]:
        """Delete up to 25 records of the partition; `more` while some remain."""
        page = self._records.list(ListQuery(job["email"], BATCH_WRITE))
        keys = [(str(r["email"]), int(r["id"])) for r in page.items]
        left = self._records.delete_many(keys)
        if left:
            raise WriteThrottled(f"{len(left)} of {len(keys)} deletes were throttled")
        return {"more": page.next_cursor is not None}

    def finish_erasure(self, job: dict[str, Any], before: int) -> dict[str, Any]:
        """The count erased (what was there, less what is left: 0 unless written meanwhile)."""
        left = self._partition_size(job["email"])
        counts = {"records": before, "erased": max(before - left, 0), "left": left}
        if self._history is not None:  # the right to be forgotten covers the history too
            counts["history_erased"] = self._history.erase(job["email"])
        self._update(job, status="succeeded", counts=counts)
        return counts

    def _partition_size(self, email: str) -> int:
        total, cursor = 0, None
        while True:
            page = self._records.list(ListQuery(email, 100, cursor))
            total += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return total

    # -- any job ---------------------------------------------------------------------------------
    def fail(self, job: dict[str, Any], error: dict[str, Any]) -> None:
        """Record why the job failed (the state machine's Catch), unless its task already said why in
        its own words (a file over a limit: the split names the line or the count)."""
        recorded = self._jobs.get(job["owner"], job["id"]) or {}
        if recorded.get("status") == "failed" and recorded.get("failure"):
            return
        self._update(job, status="failed", failure=describe_failure(error.get("Error"), error.get("Cause")))


def derived_id(digest: str, line: int) -> int:
    """The id of a row without one: from the file's content and the row's line (the same row of the
    same file always gets the same id)."""
    value = int(hashlib.sha256(f"{digest}:{line}".encode()).hexdigest()[:14], 16)
    return value % MAX_ID + 1


def _rejection(line: int, errors: list[FieldError]) -> dict[str, Any]:
    return {"line": line, "errors": [{"field": e.field, "message": e.message} for e in errors]}


def _chunk_rows(data: bytes) -> tuple[list[str] | None, list[tabular.RawRow]]:
    """A chunk object's header names and raw rows."""
    chunk = json.loads(data)
    return chunk["names"], [tabular.RawRow(int(line), raw) for line, raw in chunk["rows"]]


def _chunk_key(job: dict[str, Any], index: int) -> str:
    return f"imports/{job['id']}/chunks/{index:07d}.json"


def _result_key(job: dict[str, Any], index: int) -> str:
    return f"imports/{job['id']}/results/{index:07d}.json"


def _holds(stored: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether the stored record has exactly these values (then importing them changes nothing)."""
    current, problems = present(stored)
    return not problems and all(current.get(name) == value for name, value in values.items())


def _record(
    job: dict[str, Any],
    line: int,
    values: dict[str, Any],
    existing: dict[str, Any] | None,
    caller: Caller,
    now: str,
) -> dict[str, Any]:
    """The record an import writes for a row (a new version of `existing` in upsert mode)."""
    author = (
        existing if existing is not None else {"created_by": caller.subject, "created_by_email": caller.email}
    )
    return {
        **values,
        "version": int(existing.get("version") or 1) + 1 if existing is not None else 1,
        "created_at": existing.get("created_at", now) if existing is not None else now,
        "created_by": author.get("created_by"),
        "created_by_email": author.get("created_by_email"),
        "updated_at": now,
        **caller.as_updater(),
        IMPORT_MARK: f"{job['id']}:{line}",
    }


def _presentable(stored: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Stored rows as the API shows them; a row that breaks the record's rules is left out (and
    logged), as listings leave it out."""
    for row in stored:
        record, problems = present(row)
        if problems:
            logger.warning(
                "a stored row breaks the record rules; left out of the export",
                extra={"key": [str(row.get("email")), str(row.get("id"))]},
            )
            continue
        yield record


def _in_order(read: Callable[[str], T], keys: list[str]) -> Iterator[T]:
    """`read(key)` of each key, in order, READ_AHEAD of them in flight at once."""
    with ThreadPoolExecutor(max_workers=READ_AHEAD) as pool:
        pending: deque[Future[T]] = deque()
        for key in keys:
            pending.append(pool.submit(read, key))
            if len(pending) >= READ_AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
