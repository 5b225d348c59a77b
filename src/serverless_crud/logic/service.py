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

    return RecordService(DynamoRecordRepository(client(), get_settings()))
