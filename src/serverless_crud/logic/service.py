"""Wiring: the instance's RecordService over DynamoDB, built on first use and again after a settings reset."""

from __future__ import annotations

from serverless_crud import settings
from serverless_crud.logic.records import RecordService


@settings.per_settings
def record_service(current: settings.Settings) -> RecordService:
    """The service for this instance."""
    from serverless_crud.dal.dynamodb import client
    from serverless_crud.dal.repository import DynamoRecordRepository

    if current.cursor_key_is_ephemeral:
        from serverless_crud.observability import logger

        logger.warning("CURSOR_SECRET is not set: cursors are valid on this instance only")
    return RecordService(DynamoRecordRepository(client(), current))
