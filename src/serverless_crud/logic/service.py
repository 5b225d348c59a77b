"""Wiring: the process's RecordService over DynamoDB, built on first use."""

from __future__ import annotations

from functools import cache

from serverless_crud.logic.records import RecordService


@cache
def record_service() -> RecordService:
    """The service for this process (cleared with `record_service.cache_clear()` in tests)."""
    from serverless_crud.dal.dynamodb import client
    from serverless_crud.dal.repository import DynamoRecordRepository
    from serverless_crud.settings import get_settings

    settings = get_settings()
    if settings.cursor_secret_is_ephemeral:
        from serverless_crud.observability import logger

        logger.warning("CURSOR_SECRET is not set: cursors are valid on this instance only")
    return RecordService(DynamoRecordRepository(client(), settings))
