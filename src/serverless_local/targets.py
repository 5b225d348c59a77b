"""Delivering a payload to whatever an ARN names, as one AWS service hands work to another.

An EventBridge target, an SNS subscription, an S3 notification, a Lambda destination or dead-letter
queue, a schedule's target: each names an ARN and hands it a payload. Each local service registers how
its own ARNs receive one (`register("lambda", ...)`: an asynchronous invocation; `"sqs"`: a message;
`"sns"`: a publication; `"states"`: an execution), so services reach each other by ARN without
importing each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivery:
    """What one delivery carries: the payload and, where the target's service takes them, its extras."""

    #: A JSON value (sent as its JSON text) or text (sent as it is).
    payload: Any
    #: SQS message attributes / SNS message attributes (their service's own shape).
    attributes: dict[str, Any] = field(default_factory=dict)
    #: SNS `Subject`.
    subject: str | None = None
    #: SQS FIFO `MessageGroupId` / `MessageDeduplicationId`.
    group_id: str | None = None
    deduplication_id: str | None = None
    #: Who sends it (for a Lambda target: the event source, e.g. "aws:sns"); informational.
    source: str = ""

    @property
    def text(self) -> str:
        """The payload as the target receives it."""
        return self.payload if isinstance(self.payload, str) else json.dumps(self.payload)


#: Hands a delivery to the resource an ARN names; raises TargetError if it cannot.
Receiver = Callable[[str, Delivery], None]


class TargetError(Exception):
    """A delivery the target cannot take (it does not exist, its service is not run locally)."""


class Targets:
    """ARN service -> how that service receives a delivery."""

    def __init__(self) -> None:
        self._receivers: dict[str, Receiver] = {}

    def register(self, service: str, receiver: Receiver) -> None:
        """`service` is the ARN's third part (`lambda`, `sqs`, `sns`, `states`, `events`...)."""
        self._receivers[service] = receiver

    def handles(self, arn: str) -> bool:
        """Whether a local service receives deliveries for `arn`."""
        return _service(arn) in self._receivers

    def deliver(self, arn: str, delivery: Delivery) -> None:
        """Hand `delivery` to the resource `arn` names."""
        receiver = self._receivers.get(_service(arn))
        if receiver is None:
            raise TargetError(f"{arn} is not a target the local runtime delivers to")
        receiver(arn, delivery)


def _service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 5 and parts[0] == "arn" else ""
