"""EventBridge events: SAM's `EventBridgeRule`/`CloudWatchEvent` (a pattern), `Schedule` (a scheduled rule)
and `ScheduleV2` (an EventBridge Scheduler schedule), on functions and state machines alike.

Each becomes what SAM's transform makes: a rule on its bus (`Pattern`, or `Schedule`) whose target is
the function or state machine, with the event's `Input`, `InputPath` or `InputTransformer`, its
`DeadLetterConfig` and `State`; or a schedule whose target is it, with its `Input`, time zone, dates
and dead-letter queue. The EventBridge service (services/events/) matches, fires and delivers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from serverless_local.services.lambda_.event_sources.base import EventSource, EventTarget
from serverless_local.stack import Event
from serverless_local.template import TemplateError

if TYPE_CHECKING:
    from serverless_local.services.base import Rules

#: The target properties SAM's rule events pass on.
_TARGET_INPUTS = ("Input", "InputPath", "InputTransformer", "RetryPolicy")


class _Events(EventSource):
    """What the three share: the EventBridge service, and a dead-letter queue SAM may make."""

    @property
    def events(self) -> Rules:
        """Where rules and schedules are made (the EventBridge service)."""
        rules = self.context.rules
        if rules is None:
            raise TemplateError("EventBridge is not run: its rules and schedules cannot be made")
        return rules

    def dead_letter(self, event: Event, target: EventTarget) -> dict[str, str] | None:
        """The event's `DeadLetterConfig` as a target's: its queue's ARN (SAM makes one for `Type: SQS`)."""
        declared = event.properties.get("DeadLetterConfig")
        if not isinstance(declared, dict):
            return None
        if "Arn" in declared:
            return {"Arn": str(self.resolve(event, declared["Arn"], "DeadLetterConfig.Arn"))}
        sqs = self.context.aws.client("sqs")
        name = str(declared.get("QueueLogicalId") or f"{target.logical_id}{event.event_id}Queue")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {"Arn": str(arn)}

    def rule_target(self, event: Event, target: EventTarget) -> dict[str, Any]:
        """The rule's target for the function or state machine."""
        declared = event.properties.get("Target")
        made: dict[str, Any] = {
            "Id": str((declared or {}).get("Id") if isinstance(declared, dict) else "")
            or f"{target.logical_id}{event.event_id}LambdaTarget",
            "Arn": target.arn,
        }
        for name in _TARGET_INPUTS:
            if name in event.properties:
                made[name] = self.resolve(event, event.properties[name], name)
        dead_letter = self.dead_letter(event, target)
        if dead_letter is not None:
            made["DeadLetterConfig"] = dead_letter
        return made


def _state(event: Event, properties: dict[str, Any]) -> str:
    if "State" in properties:
        return str(properties["State"])
    if "Enabled" in properties:
        return "ENABLED" if str(properties["Enabled"]).lower() == "true" else "DISABLED"
    return "ENABLED"


class RuleEvents(_Events):
    """SAM `EventBridgeRule` and `CloudWatchEvent` events: a rule with the event's pattern."""

    event_types: ClassVar[frozenset[str]] = frozenset({"EventBridgeRule", "CloudWatchEvent"})

    def connect(self, event: Event, target: EventTarget) -> None:
        """The rule on its bus, the function or state machine its target."""
        pattern = self.required(event, "Pattern")
        bus = str(self.resolve(event, event.properties.get("EventBusName"), "EventBusName") or "default")
        properties = self.resolve(
            event, {k: v for k, v in event.properties.items() if k in ("State", "Enabled")}, ""
        )
        name = str(
            self.resolve(event, event.properties.get("RuleName"), "RuleName")
            or f"{target.logical_id}{event.event_id}"
        )
        self.events.put_rule(
            name=name,
            bus=bus.rsplit("/", 1)[-1],
            pattern=pattern,
            schedule=None,
            state=_state(event, properties),
            targets=[self.rule_target(event, target)],
            where=f"{event.owner}.Events.{event.event_id}",
        )
        self.connected(f"{target.logical_id} <- EventBridge rule {name} on bus {bus.rsplit('/', 1)[-1]}")


class ScheduleEvents(_Events):
    """SAM `Schedule` events: a scheduled rule on the default bus."""

    event_types: ClassVar[frozenset[str]] = frozenset({"Schedule"})

    def connect(self, event: Event, target: EventTarget) -> None:
        """The scheduled rule, the function or state machine its target."""
        expression = str(self.required(event, "Schedule"))
        properties = self.resolve(
            event, {k: v for k, v in event.properties.items() if k in ("State", "Enabled")}, ""
        )
        name = str(
            self.resolve(event, event.properties.get("Name"), "Name")
            or f"{target.logical_id}{event.event_id}"
        )
        self.events.put_rule(
            name=name,
            bus="default",
            pattern=None,
            schedule=expression,
            state=_state(event, properties),
            targets=[self.rule_target(event, target)],
            where=f"{event.owner}.Events.{event.event_id}",
        )
        self.connected(f"{target.logical_id} <- schedule {name} ({expression})")


class ScheduleV2Events(_Events):
    """SAM `ScheduleV2` events: an EventBridge Scheduler schedule."""

    event_types: ClassVar[frozenset[str]] = frozenset({"ScheduleV2"})

    def connect(self, event: Event, target: EventTarget) -> None:
        """The schedule, the function or state machine its target."""
        properties = self.resolve(event, event.properties, "")
        name = str(properties.get("Name") or f"{target.logical_id}{event.event_id}")
        schedule_target: dict[str, Any] = {
            "Arn": target.arn,
            "RoleArn": "arn:aws:iam::123456789012:role/local",
        }
        if "Input" in properties:
            schedule_target["Input"] = str(properties["Input"])
        if "RetryPolicy" in properties:
            schedule_target["RetryPolicy"] = properties["RetryPolicy"]
        dead_letter = self.dead_letter(event, target)
        if dead_letter is not None:
            schedule_target["DeadLetterConfig"] = dead_letter
        self.events.put_schedule(
            name,
            {**properties, "Target": schedule_target, "State": _state(event, properties)},
            f"{event.owner}.Events.{event.event_id}",
        )
        self.connected(
            f"{target.logical_id} <- Scheduler schedule {name} ({properties.get('ScheduleExpression')})"
        )
