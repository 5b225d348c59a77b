"""Jobs: bulk import, export and erasure, run by the state machines of statemachines/.

The API starts a job (`JobService`): it stores the job's record (queued), its input file for an
import, and starts the job's execution, named by the job id. The state machines' tasks
(`JobTasks`, called by `serverless_crud.tasks`) do the work and keep the job record up to date.

Import: `split` reads the file, numbers the rows and writes them to S3 in chunks of CHUNK_ROWS;
a Map runs `write_chunk` on each (validate with the record's rules, one BatchGetItem of up to 100
keys for what exists, BatchWriteItems of 25 for the rest); DynamoDB's unprocessed items raise
`WriteThrottled`, which the state machine retries with backoff and jitter. A row without an id
gets one derived from the file's content and its line, so the same file imported twice writes the
same keys (never duplicates). Every record an import writes carries `import_row` (job and line): a
retried chunk recognises its own rows and does not reject them as `exists`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from serverless_crud.errors import FieldError, Forbidden, InvalidFile, InvalidInput, RecordNotFound
from serverless_crud.logic import tabular
from serverless_crud.logic.access import Caller
from serverless_crud.logic.ports import FileStore, Job, JobRepository, RecordBatches, Workflows
from serverless_crud.logic.records import RecordService, utc_now
from serverless_crud.models import exact_json
from serverless_crud.models.keys import MAX_ID, normalise_email
from serverless_crud.models.listing import ListQuery
from serverless_crud.models.validation import validator

IMPORT, EXPORT, ERASURE = "import", "export", "erasure"
MODES = ("create", "upsert")
#: Rows per import task: one BatchGetItem's 100 keys (each task's fixed cost is shared by as many rows).
CHUNK_ROWS = 100
#: Items per BatchWriteItem (DynamoDB's limit).
BATCH_WRITE = 25
#: Rejections kept in the job record (all of them are in the report file).
MAX_REPORTED = 1000
DOWNLOAD_SECONDS = 900
UPLOAD_SECONDS = 900
IMPORT_MARK = "import_row"
#: Jobs are kept this long (the jobs table's TTL attribute `expires_at`), as their files are (the
#: bucket's lifecycle).
JOB_TTL_SECONDS = 30 * 24 * 3600
_FINISHED = ("succeeded", "failed")


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
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._workflows = workflows
        self._machines = machines
        self._clock = clock

    def start_import(self, caller: Caller, data: bytes, media_type: str, mode: str) -> Job:
        """Check the file's header, store it, start the import."""
        try:
            tabular.check_header(data, media_type)
        except tabular.UnreadableFile as error:
            raise InvalidFile(str(error)) from None
        job = self._new(caller, IMPORT, {"mode": mode, "format": _format_of(media_type)})
        job["source_key"] = f"imports/{job['id']}/source.{job['format']}"
        self._files.put(job["source_key"], data, media_type)
        return self._start(job, self._machines.import_arn)

    def upload_for(self, caller: Caller, fmt: str) -> dict[str, Any]:
        """A presigned PUT for a file too big for a request body; POST /imports names it after."""
        token = secrets.token_hex(16)
        url = self._files.upload_url(_upload_key(caller, token, fmt), tabular.FORMATS[fmt], UPLOAD_SECONDS)
        return {
            "upload": token,
            "format": fmt,
            "upload_url": url,
            "content_type": tabular.FORMATS[fmt],
            "expires_in": UPLOAD_SECONDS,
        }

    def start_uploaded_import(self, caller: Caller, token: str, fmt: str, mode: str) -> Job:
        """Start the import of a file uploaded through `upload_for` (the caller's own upload only)."""
        if not (len(token) == 32 and all(c in "0123456789abcdef" for c in token)):
            raise InvalidInput([FieldError("upload", "is not an upload this API handed out")])
        key = _upload_key(caller, token, fmt)
        if not self._files.exists(key):
            raise InvalidInput([FieldError("upload", "has no file: PUT the file to its upload_url first")])
        head = self._files.get_head(key, 64 * 1024)
        try:
            tabular.check_header(head, tabular.FORMATS[fmt], partial=True)
        except tabular.UnreadableFile as error:
            raise InvalidFile(str(error)) from None
        job = self._new(caller, IMPORT, {"mode": mode, "format": fmt})
        job["source_key"] = key
        return self._start(job, self._machines.import_arn)

    def start_export(self, caller: Caller, fmt: str, email: str | None) -> Job:
        """Start an export of every record the caller may see (or of one partition)."""
        partition = caller.listing_partition(_partition(email) if email else None)
        return self._start(
            self._new(caller, EXPORT, {"format": fmt, "email": partition}), self._machines.export_arn
        )

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
    names = ("owner", "id", "kind", "mode", "format", "email", "source_key", "caller")
    return {name: job[name] for name in names if name in job}


_FAILURES = {
    "WriteThrottled": "DynamoDB kept throttling the writes after every retry; rows written are kept,"
    " and running the import again completes it",
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
        service: RecordService,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._jobs = jobs
        self._files = files
        self._records = records
        self._service = service
        self._clock = clock

    def _update(self, job: dict[str, Any], **changes: Any) -> None:
        self._jobs.update(job["owner"], job["id"], {**changes, "updated_at": self._clock()})

    # -- import --------------------------------------------------------------------------------
    def split(self, job: dict[str, Any]) -> dict[str, Any]:
        """Number the file's rows, write them to S3 in chunks; the chunks' list for the Map."""
        data = self._files.get(job["source_key"])
        media = tabular.FORMATS[job["format"]]
        digest = hashlib.sha256(data).hexdigest()
        chunks: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        seen: dict[tuple[str, int], int] = {}
        batch: list[dict[str, Any]] = []
        rows = 0

        def flush() -> None:
            key = f"imports/{job['id']}/chunks/{len(chunks):06d}.json"
            self._files.put(key, exact_json.dumps(batch).encode(), "application/json")
            chunks.append({"key": key})
            batch.clear()

        try:
            for row in tabular.read_rows(data, media):
                rows += 1
                if row.errors:
                    rejected.append(_rejection(row.line, list(row.errors)))
                    continue
                body = dict(row.body)
                if "id" not in body:
                    body["id"] = derived_id(digest, row.line)
                key = _raw_key(body)
                if key is not None and key in seen:
                    rejected.append(
                        _rejection(row.line, [FieldError("id", f"repeats the key of line {seen[key]}")])
                    )
                    continue
                if key is not None:
                    seen[key] = row.line
                batch.append({"line": row.line, "body": body})
                if len(batch) == CHUNK_ROWS:
                    flush()
        except tabular.UnreadableFile as error:
            self._update(job, status="failed", failure=str(error))
            raise
        if batch:
            flush()
        self._files.put(
            f"imports/{job['id']}/rejected/split.json", json.dumps(rejected).encode(), "application/json"
        )
        self._update(job, status="running", counts={"rows": rows, "written": 0, "rejected": len(rejected)})
        return {"chunks": chunks, "rows": rows}

    def write_chunk(self, job: dict[str, Any], chunk: dict[str, Any]) -> dict[str, int]:
        """Validate and write one chunk; WriteThrottled when DynamoDB leaves items unprocessed."""
        rows = exact_json.parse(self._files.get(chunk["key"]).decode())
        caller = caller_from(job["caller"])
        check = validator("RecordCreate")
        rejected: list[dict[str, Any]] = []
        valid: list[tuple[int, dict[str, Any]]] = []
        for row in rows:
            values, errors = check(row["body"])
            if not errors and not caller.may_access(values["email"]):
                errors = [FieldError("email", "is not yours: you may import only your own records")]
            if errors:
                rejected.append(_rejection(row["line"], errors))
            else:
                valid.append((row["line"], values))
        stored = self._records.get_many([(v["email"], v["id"]) for _, v in valid])
        now = self._clock()
        writes: list[dict[str, Any]] = []
        mine = 0
        for line, values in valid:
            mark = f"{job['id']}:{line}"
            existing = stored.get((values["email"], values["id"]))
            if existing is not None and existing.get(IMPORT_MARK) == mark:
                mine += 1  # written by an earlier attempt of this chunk
                continue
            if existing is not None and job.get("mode") != "upsert":
                rejected.append(
                    _rejection(line, [FieldError("id", "exists: a record has this email and id")])
                )
                continue
            version = int(existing.get("version") or 1) + 1 if existing is not None else 1
            created = existing.get("created_at", now) if existing is not None else now
            author = (
                existing
                if existing is not None
                else {
                    "created_by": caller.subject,
                    "created_by_email": caller.email,
                }
            )
            writes.append(
                {
                    **values,
                    "version": version,
                    "created_at": created,
                    "updated_at": now,
                    "created_by": author.get("created_by"),
                    "created_by_email": author.get("created_by_email"),
                    **caller.as_updater(),
                    IMPORT_MARK: mark,
                }
            )
        if rejected:  # (the same rows are rejected on a retry: the file is rewritten as it was)
            self._files.put(_rejected_key(job, chunk), json.dumps(rejected).encode(), "application/json")
        left = [
            record
            for start in range(0, len(writes), BATCH_WRITE)
            for record in self._records.put_many(writes[start : start + BATCH_WRITE])
        ]
        if left:  # the retry writes only what is not yet there: the rows written carry their mark
            raise WriteThrottled(f"{len(left)} of {len(writes)} writes were throttled")
        done = {"written": len(writes) + mine, "rejected": len(rejected)}
        self._jobs.add_counts(job["owner"], job["id"], done)  # progress (finish_import sets the totals)
        return done

    def finish_import(self, job: dict[str, Any], results: list[dict[str, int]]) -> dict[str, Any]:
        """Gather the chunks' counts and rejections into the job record and a report file."""
        rejected: list[dict[str, Any]] = []
        for key in self._files.keys(f"imports/{job['id']}/rejected/"):
            rejected.extend(json.loads(self._files.get(key)))
        rejected.sort(key=lambda r: int(r["line"]))
        written = sum(int(r["written"]) for r in results)
        rows = written + len(rejected)
        report_key = f"imports/{job['id']}/report.json"
        self._files.put(report_key, json.dumps(rejected).encode(), "application/json")
        counts = {"rows": rows, "written": written, "rejected": len(rejected)}
        self._update(
            job, status="succeeded", counts=counts, rejected=rejected[:MAX_REPORTED], report_key=report_key
        )
        return counts

    # -- export ----------------------------------------------------------------------------------
    def export(self, job: dict[str, Any]) -> dict[str, Any]:
        """Every record the caller sees (or one partition's) to one file in S3."""
        self._update(job, status="running")
        caller = caller_from(job["caller"])
        records: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self._service.list(caller, ListQuery(job.get("email") or None, 100, cursor))
            records.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        key = f"exports/{job['id']}/records.{job['format']}"
        self._files.put(key, tabular.write(records, job["format"]), tabular.FORMATS[job["format"]])
        self._update(job, status="succeeded", counts={"records": len(records)}, download_key=key)
        return {"records": len(records)}

    # -- erasure ---------------------------------------------------------------------------------
    def count_partition(self, job: dict[str, Any]) -> dict[str, Any]:
        """How many records the partition holds (the erasure's count)."""
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
        """Record why the job failed (the state machine's Catch)."""
        self._update(job, status="failed", failure=describe_failure(error.get("Error"), error.get("Cause")))


def derived_id(digest: str, line: int) -> int:
    """The id of a row without one: from the file's content and the row's line (the same row of the
    same file always gets the same id)."""
    value = int(hashlib.sha256(f"{digest}:{line}".encode()).hexdigest()[:14], 16)
    return value % MAX_ID + 1


def _raw_key(body: dict[str, Any]) -> tuple[str, int] | None:
    email, record_id = body.get("email"), body.get("id")
    if not isinstance(email, str) or not isinstance(record_id, int) or isinstance(record_id, bool):
        return None
    try:
        return normalise_email(email), record_id
    except ValueError:
        return None


def _rejection(line: int, errors: list[FieldError]) -> dict[str, Any]:
    return {"line": line, "errors": [{"field": e.field, "message": e.message} for e in errors]}


def _rejected_key(job: dict[str, Any], chunk: dict[str, Any]) -> str:
    name = chunk["key"].rsplit("/", 1)[1]
    return f"imports/{job['id']}/rejected/{name}"
