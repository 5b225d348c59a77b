"""The composition root: the one place the app is wired. The use-cases (logic/) get the data layer
(dal/) through the interfaces of logic/ports.py, the API (api/) gets the use-cases through
api/services.py. The entry points (handler.py, tasks.py, the CLI) import this module; no layer does.

Everything is built on first use, for the instance's settings (again after `settings.reset()`), so
that a cold start creates no client it does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from serverless_crud import settings
from serverless_crud.api import services as api_services

if TYPE_CHECKING:
    from serverless_crud.dal.history import DynamoHistoryStore
    from serverless_crud.dal.repository import DynamoRecordRepository
    from serverless_crud.logic.history import HistoryRecorder, HistoryService
    from serverless_crud.logic.jobs import JobLimits, JobService, JobTasks
    from serverless_crud.logic.records import RecordService
    from serverless_crud.models.history import Change


def record_repository(current: settings.Settings) -> DynamoRecordRepository:
    """The records table under these settings (also what the CLI's backfill and the bench use)."""
    from serverless_crud.dal.clients import client
    from serverless_crud.dal.repository import DynamoRecordRepository

    return DynamoRecordRepository(client("dynamodb"), current)


@settings.per_settings
def record_service(current: settings.Settings) -> RecordService:
    """The record use-cases for this instance."""
    from serverless_crud.logic.records import RecordService

    if current.cursor_key_is_ephemeral:
        from serverless_crud.observability import logger

        logger.warning("CURSOR_SECRET is not set: cursors are valid on this instance only")
    return RecordService(_repository(), history=history_service() if current.history_table else None)


@settings.per_settings
def _repository(current: settings.Settings) -> DynamoRecordRepository:
    return record_repository(current)


def _jobs_parts(current: settings.Settings, *, bulk: bool = False) -> tuple[Any, Any]:
    """The jobs' table and bucket, or StoreUnavailable when the stack has none configured (`bulk`:
    through the tasks' clients)."""
    from serverless_crud.dal.clients import client
    from serverless_crud.dal.jobs import FileStore, JobRepository

    if not (current.jobs_table and current.files_bucket):
        from serverless_crud.errors import StoreUnavailable

        raise StoreUnavailable("JOBS_TABLE and FILES_BUCKET are not set: jobs are not configured")
    return JobRepository(client("dynamodb", bulk=bulk), current.jobs_table), FileStore(
        client("s3", bulk=bulk), current.files_bucket
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
    from serverless_crud.dal.clients import client
    from serverless_crud.dal.jobs import Workflows
    from serverless_crud.logic.jobs import JobService, Machines

    jobs, files = _jobs_parts(current)
    machines = Machines(
        current.import_state_machine, current.export_state_machine, current.erase_state_machine
    )
    return JobService(jobs, files, Workflows(client("stepfunctions")), machines, _job_limits(current))


@settings.per_settings
def job_tasks(current: settings.Settings) -> JobTasks:
    """The state machines' tasks for this instance."""
    from serverless_crud.dal.clients import client
    from serverless_crud.dal.repository import DynamoRecordRepository
    from serverless_crud.logic.jobs import JobTasks

    jobs, files = _jobs_parts(current, bulk=True)
    records = DynamoRecordRepository(client("dynamodb", bulk=True), current)
    history = history_service() if current.history_table else None
    return JobTasks(jobs, files, records, _job_limits(current), history=history)


@settings.per_settings
def _history_store(current: settings.Settings) -> DynamoHistoryStore:
    """The history table, or StoreUnavailable when the stack has none configured."""
    from serverless_crud.dal.clients import client
    from serverless_crud.dal.history import DynamoHistoryStore

    if not current.history_table:
        from serverless_crud.errors import StoreUnavailable

        raise StoreUnavailable("HISTORY_TABLE is not set: history is not configured")
    return DynamoHistoryStore(client("dynamodb"), current.history_table, current.cursor_key)


@settings.per_settings
def history_service(current: settings.Settings) -> HistoryService:
    """The history's use-cases for the API."""
    from serverless_crud.logic.history import HistoryService

    return HistoryService(_history_store(), _repository(), current.history_retention_days)


@settings.per_settings
def history_recorder(current: settings.Settings) -> HistoryRecorder:
    """The stream consumer's use-case."""
    from serverless_crud.logic.history import HistoryRecorder

    return HistoryRecorder(_history_store(), current.history_retention_days)


def history_changes(stream_record: dict[str, Any]) -> Change:
    """One record of the records table's stream as a change of a record."""
    from serverless_crud.dal.history import change_of

    current = settings.current()
    return change_of(stream_record, current.partition_key, current.sort_key)


@settings.per_settings
def idempotency_store(current: settings.Settings) -> Any:
    """Powertools' DynamoDB persistence layer on the idempotency table, over the function's client
    (Powertools' idempotency module, and boto3 with it, load on the first keyed request only)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from serverless_crud.dal.clients import client

    return DynamoDBPersistenceLayer(table_name=current.idempotency_table, boto3_client=client("dynamodb"))


class AppServices:
    """The services the API's routes call (api.services.Services)."""

    records = staticmethod(record_service)
    jobs = staticmethod(job_service)
    history = staticmethod(history_service)
    idempotency_store = staticmethod(idempotency_store)


def wire_api() -> None:
    """Give the API its services."""
    api_services.install(AppServices())
