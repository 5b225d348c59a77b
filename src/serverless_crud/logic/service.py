"""Wiring: the instance's RecordService over DynamoDB, built on first use and again after a settings reset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from serverless_crud import settings
from serverless_crud.logic.records import RecordService

if TYPE_CHECKING:
    from serverless_crud.dal.jobs import FileStore, JobRepository
    from serverless_crud.logic.jobs import JobLimits, JobService, JobTasks


@settings.per_settings
def record_service(current: settings.Settings) -> RecordService:
    """The service for this instance."""
    from serverless_crud.dal.dynamodb import client
    from serverless_crud.dal.repository import DynamoRecordRepository

    if current.cursor_key_is_ephemeral:
        from serverless_crud.observability import logger

        logger.warning("CURSOR_SECRET is not set: cursors are valid on this instance only")
    return RecordService(DynamoRecordRepository(client(), current))


def _jobs_parts(current: settings.Settings) -> tuple[JobRepository, FileStore]:
    """The jobs' table and bucket, or StoreUnavailable when the stack has none configured."""
    from serverless_crud.dal.jobs import FileStore, JobRepository, client

    if not (current.jobs_table and current.files_bucket):
        from serverless_crud.errors import StoreUnavailable

        raise StoreUnavailable("JOBS_TABLE and FILES_BUCKET are not set: jobs are not configured")
    return JobRepository(client("dynamodb"), current.jobs_table), FileStore(
        client("s3"), current.files_bucket
    )


def _job_limits(current: settings.Settings) -> JobLimits:
    from serverless_crud.logic.jobs import JobLimits

    return JobLimits(
        file_bytes=current.max_import_bytes,
        rows=current.max_import_rows,
        line_bytes=current.max_line_bytes,
        concurrency=current.import_concurrency,
        tolerated_failure_percent=current.import_tolerated_failure,
        export_segments=current.export_segments,
    )


@settings.per_settings
def job_service(current: settings.Settings) -> JobService:
    """The API's jobs (imports, exports, erasures) for this instance."""
    from serverless_crud.dal.jobs import Workflows, client
    from serverless_crud.logic.jobs import JobService, Machines

    jobs, files = _jobs_parts(current)
    machines = Machines(
        current.import_state_machine, current.export_state_machine, current.erase_state_machine
    )
    return JobService(jobs, files, Workflows(client("stepfunctions")), machines, _job_limits(current))


@settings.per_settings
def job_tasks(current: settings.Settings) -> JobTasks:
    """The state machines' tasks for this instance."""
    from serverless_crud.dal.dynamodb import client
    from serverless_crud.dal.repository import DynamoRecordRepository
    from serverless_crud.logic.jobs import JobTasks

    jobs, files = _jobs_parts(current)
    return JobTasks(jobs, files, DynamoRecordRepository(client(), current), _job_limits(current))
