"""Event sources: each SAM event type a function (or state machine) may declare, as AWS delivers it.

A new event source is a module with an `EventSource` subclass and a line in `EVENT_SOURCES`; one whose
events come from a queue or a stream adds its poller to `POLLERS`, by the service of the source's ARN.
"""

from __future__ import annotations

from serverless_local.services.lambda_.event_sources.base import EventSource, EventTarget, Runtime
from serverless_local.services.lambda_.event_sources.dynamodb_streams import DynamoDbEvents, StreamPoller
from serverless_local.services.lambda_.event_sources.eventbridge import (
    RuleEvents,
    ScheduleEvents,
    ScheduleV2Events,
)
from serverless_local.services.lambda_.event_sources.poller import (
    Functions,
    Mappings,
    PollerContext,
    PollerType,
    Positions,
)
from serverless_local.services.lambda_.event_sources.s3 import S3Events
from serverless_local.services.lambda_.event_sources.sns import SnsEvents
from serverless_local.services.lambda_.event_sources.sqs import SqsEvents, SqsPoller

EVENT_SOURCES: tuple[type[EventSource], ...] = (
    SqsEvents,
    DynamoDbEvents,
    SnsEvents,
    S3Events,
    RuleEvents,
    ScheduleEvents,
    ScheduleV2Events,
)

#: The poller of an event source mapping, by the service of its source's ARN.
POLLERS: dict[str, PollerType] = {
    "sqs": SqsPoller,
    "dynamodb": StreamPoller,
}

__all__ = [
    "EVENT_SOURCES",
    "POLLERS",
    "EventSource",
    "EventTarget",
    "Functions",
    "Mappings",
    "PollerContext",
    "Positions",
    "Runtime",
]
