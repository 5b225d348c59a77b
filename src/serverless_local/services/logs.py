"""CloudWatch Logs: the template's log groups in moto, and the functions' log streams written there.

`AWS::Logs::LogGroup` resources are created with their `LogGroupName` (else the logical id) and
`RetentionInDays`; `!Ref` is the name and `!GetAtt .Arn` its ARN, known before moto runs, so a
function's `LoggingConfig.LogGroup` names it. The Lambda service's log collector writes each function's
events here (its group and stream created on first use, as Lambda does), so `logs describe-log-groups`,
`filter-log-events` and `get-log-events` at the endpoint, and `serverless-local logs`, read them.

Logs are kept while the server runs, up to `EVENTS_PER_STREAM` events per stream (the oldest go
first, as retention would drop them); they are not journaled.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION
from serverless_local.services.base import Service, ServiceContext
from serverless_local.template import Unresolvable

LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
#: Events kept per log stream (the oldest are dropped beyond it).
EVENTS_PER_STREAM = 20_000


def log_group_arn(name: str) -> str:
    """A log group's ARN, as `!GetAtt LogGroup.Arn` gives it."""
    return f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*"


class LogsService(Service):
    """The template's log groups and every function's log streams, in the embedded CloudWatch Logs."""

    title: ClassVar[str] = "Logs"
    resource_types: ClassVar[frozenset[str]] = frozenset({LOG_GROUP_TYPE})
    #: Its names are known without moto; the groups are created in `attach`.
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.names: dict[str, str] = {}
        self.retention: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Name the template's log groups (for `!Ref`), and receive the functions' log events."""
        template = self.context.template
        for resource in self.resources:
            properties = resource.properties
            name = template.resolve(properties.get("LogGroupName"), resource.logical_id)
            self.names[resource.logical_id] = str(name or resource.logical_id)
            days = template.resolve(properties.get("RetentionInDays"), resource.logical_id)
            if days:
                self.retention[self.names[resource.logical_id]] = int(days)
        template.resolver.providers[LOG_GROUP_TYPE] = self.value
        self.context.log_writer = self.write

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the name) and `!GetAtt .Arn` of a log group."""
        name = self.names[logical_id]
        if attribute is None:
            return name
        if attribute == "Arn":
            return log_group_arn(name)
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def attach(self) -> None:
        """Create the template's log groups."""
        for name in self.names.values():
            self._group(name)
            if name in self.retention:
                self.backend.put_retention_policy(name, self.retention[name])

    def report(self) -> str | None:
        """The log groups that hold events."""
        groups = self.backend.groups
        written = sorted(name for name, group in list(groups.items()) if group.streams)
        named = sorted(set(self.names.values()) | set(written))
        return ", ".join(named) if named else None

    @property
    def backend(self) -> Any:
        """The one CloudWatch Logs backend."""
        from moto.logs.models import logs_backends

        return logs_backends[ACCOUNT_ID][REGION]

    def write(self, group: str, stream: str, events: list[dict[str, object]]) -> None:
        """Append events to a log stream, creating its group and the stream on first use."""
        with self._lock:
            found = self._group(group)
            if stream not in found.streams:
                self.backend.create_log_stream(group, stream)
            log_stream = found.streams[stream]
            log_stream.put_log_events(events)
            excess = len(log_stream.events) - EVENTS_PER_STREAM
            if excess > 0:
                del log_stream.events[:excess]

    def _group(self, name: str) -> Any:
        groups = self.backend.groups
        if name not in groups:
            self.backend.create_log_group(name, {})
        return groups[name]
