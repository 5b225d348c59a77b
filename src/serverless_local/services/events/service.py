"""EventBridge and EventBridge Scheduler: buses, rules, targets and schedules in moto, delivered here.

The template's `AWS::Events::EventBus`, `AWS::Events::Rule` (an `EventPattern` or a
`ScheduleExpression`, its `Targets`) and `AWS::Scheduler::Schedule` (and its group) are made in moto;
`!Ref`/`!GetAtt` resolve before anything runs. moto matches `PutEvents` entries against the rules'
patterns; what a matching rule's targets receive is decided here, as EventBridge decides it:
the event (with `account`, and `time` as text), or the target's `Input`, `InputPath` or
`InputTransformer` (`input`), handed to the target's ARN (`targets.Targets`): a function
(asynchronously), a state machine (an execution), a topic, a queue (with `SqsParameters`), another bus,
a log group. A delivery that fails goes to the target's `DeadLetterConfig` queue, with EventBridge's
error attributes. Disabled rules match nothing, and a scheduled rule matches no event.

Schedules fire on time while the server runs: a rule's `rate(...)`/`cron(...)` sends its targets
EventBridge's "Scheduled Event"; a Scheduler schedule (`rate`, `cron`, `at`, in its time zone, between
its start and end dates) sends its target its `Input`. `serverless-local fire NAME` (the endpoint's
`POST /_local/schedules/NAME`) fires one now. Rules and schedules made at the endpoint are journaled.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.events import schedule_expressions
from serverless_local.services.events.input import scheduled_event, target_input
from serverless_local.targets import Delivery, TargetError
from serverless_local.template import TemplateError, Unresolvable

BUS_TYPE = "AWS::Events::EventBus"
RULE_TYPE = "AWS::Events::Rule"
SCHEDULE_TYPE = "AWS::Scheduler::Schedule"
SCHEDULE_GROUP_TYPE = "AWS::Scheduler::ScheduleGroup"
DEFAULT_BUS = "default"
#: How often the scheduler looks for schedules that are due.
TICK_SECONDS = 0.5
_RULE_ACTIONS = frozenset(
    {"PutRule", "DeleteRule", "PutTargets", "RemoveTargets", "EnableRule", "DisableRule"}
)
_SCHEDULE_ACTIONS = frozenset({"CreateSchedule", "UpdateSchedule", "DeleteSchedule"})


def bus_arn(name: str) -> str:
    """The local ARN of the event bus `name`."""
    return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{name}"


def rule_arn(bus: str, name: str) -> str:
    """The local ARN of a rule."""
    where = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{where}"


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class EventsService(Service):
    """The template's buses, rules and schedules in the embedded EventBridge and Scheduler."""

    title: ClassVar[str] = "EventBridge"
    resource_types: ClassVar[frozenset[str]] = frozenset(
        {BUS_TYPE, RULE_TYPE, SCHEDULE_TYPE, SCHEDULE_GROUP_TYPE}
    )
    namespace: ClassVar[str | None] = "events"
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.store = context.store("events")
        self.names: dict[str, str] = {}
        self.lock = threading.RLock()
        self._patches = Patches()
        self._recording = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="schedules", daemon=True)
        #: When each schedule (by ARN) was first seen: a rate counts from there.
        self._since: dict[str, datetime.datetime] = {}
        self._next: dict[str, datetime.datetime | None] = {}
        self.fired = 0

    # -- names -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Name the template's buses, rules and schedules; receive deliveries for bus ARNs."""
        template = self.context.template
        for resource in self.resources:
            given = resource.properties.get("Name")
            self.names[resource.logical_id] = str(
                template.resolve(given, resource.logical_id) or resource.logical_id
            )
        providers = template.resolver.providers
        for kind in self.resource_types:
            providers[kind] = self.value
        self.context.targets.register("events", self.receive_delivery)
        self.context.rules = self
        self.context.targets.register("scheduler", self._refuse_scheduler)

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` and `!GetAtt` of a bus (name; Arn, Name), a rule (name, or bus|name; Arn), a schedule."""
        name = self.names[logical_id]
        kind = resource.get("Type")
        properties = resource.get("Properties") or {}
        if kind == BUS_TYPE:
            if attribute in (None, "Name"):
                return name
            if attribute == "Arn":
                return bus_arn(name)
        elif kind == RULE_TYPE:
            bus = self._bus_of(properties)
            if attribute is None:
                return name if bus == DEFAULT_BUS else f"{bus}|{name}"
            if attribute == "Arn":
                return rule_arn(bus, name)
        elif kind == SCHEDULE_TYPE:
            group = str(self.context.template.resolver.resolve(properties.get("GroupName")) or "default")
            if attribute is None:
                return name
            if attribute == "Arn":
                return f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/{group}/{name}"
        elif kind == SCHEDULE_GROUP_TYPE:
            if attribute is None:
                return name
            if attribute == "Arn":
                return f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule-group/{name}"
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def _bus_of(self, properties: dict[str, Any]) -> str:
        bus = self.context.template.resolver.resolve(properties.get("EventBusName")) or DEFAULT_BUS
        return str(bus).rsplit("/", 1)[-1]

    @property
    def backend(self) -> Any:
        """moto's EventBridge backend."""
        from moto.events.models import events_backends

        return events_backends[ACCOUNT_ID][REGION]

    @property
    def scheduler(self) -> Any:
        """moto's EventBridge Scheduler backend."""
        from moto.scheduler.models import scheduler_backends

        return scheduler_backends[ACCOUNT_ID][REGION]

    # -- lifecycle ---------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Make the buses and schedule groups; restore what the endpoint made; install the hooks."""
        self._install_hooks()
        for resource in self.resources:
            name = self.names[resource.logical_id]
            if resource.type == BUS_TYPE and name not in self.backend.event_buses:
                self.backend.create_event_bus(name)
            elif resource.type == SCHEDULE_GROUP_TYPE and name not in self.scheduler.schedule_groups:
                self.scheduler.create_schedule_group(name, [])
        for entry in self.recover(self.store).journal.entries:
            self._replay(entry)

    def connect(self) -> None:
        """Make the rules (with their targets) and the schedules; start the scheduler."""
        for resource in self.resources:
            if resource.type == RULE_TYPE:
                self._make_rule(resource)
            elif resource.type == SCHEDULE_TYPE:
                self._make_schedule(resource)
        self._recording = True
        # Rules and schedules made later (SAM's Schedule events, the endpoint) are found at each tick.
        self._thread.start()
        self.context.aws.control("schedules", self._control)

    def _control(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        """`POST /_local/schedules/NAME`: fire a schedule now."""
        if method != "POST" or not path:
            return 404, {"message": "POST /_local/schedules/NAME fires a schedule"}
        try:
            owner = self.find(path)
        except LookupError as error:
            return 404, {"message": str(error)}
        self.fire(owner)
        return 200, {"fired": owner.arn}

    def stop(self) -> None:
        """Stop the scheduler, give moto its methods back, close the journal."""
        self._stopped.set()
        self._patches.restore()
        self.store.close()

    def report(self) -> str | None:
        """Buses with rules, and the schedules."""
        parts = []
        for bus in self.backend.event_buses.values():
            if bus.rules:
                parts.append(f"bus {bus.name} ({len(bus.rules)} rules)")
        schedules = self._schedules()
        if schedules:
            parts.append(f"{len(schedules)} schedule(s) firing while the server runs")
        return ", ".join(parts) or None

    # -- what the template declares ---------------------------------------------------------------------
    def _make_rule(self, resource: Any) -> None:
        where = resource.logical_id
        properties = self.context.template.resolve(resource.properties, where)
        self.put_rule(
            name=self.names[where],
            bus=self._bus_of(resource.properties),
            pattern=properties.get("EventPattern"),
            schedule=properties.get("ScheduleExpression"),
            state=str(properties.get("State") or "ENABLED"),
            targets=list(properties.get("Targets") or []),
            where=where,
        )

    def put_rule(
        self,
        *,
        name: str,
        bus: str,
        pattern: Any,
        schedule: str | None,
        state: str,
        targets: list[dict[str, Any]],
        where: str,
    ) -> Any:
        """A rule and its targets in moto (a TemplateError names `where` what EventBridge refuses)."""
        from moto.core.exceptions import ServiceException

        if schedule:
            try:
                schedule_expressions.check(schedule)
            except schedule_expressions.ScheduleError as error:
                raise TemplateError(f"{where}: {error}") from None
        text = json.dumps(pattern) if isinstance(pattern, dict) else pattern
        try:
            rule = self.backend.put_rule(
                name, event_bus_arn=bus, event_pattern=text, scheduled_expression=schedule, state=state
            )
            if targets:
                self.backend.put_targets(name, bus, [_target(t) for t in targets])
        except (ServiceException, ValueError) as error:
            raise TemplateError(f"{where}: EventBridge refuses the rule: {error}") from None
        return rule

    def _make_schedule(self, resource: Any) -> None:
        where = resource.logical_id
        properties = self.context.template.resolve(resource.properties, where)
        self.put_schedule(self.names[where], properties, where)

    def put_schedule(self, name: str, properties: dict[str, Any], where: str) -> None:
        """A Scheduler schedule in moto."""
        expression = str(properties.get("ScheduleExpression") or "")
        zone = str(properties.get("ScheduleExpressionTimezone") or "UTC")
        try:
            schedule_expressions.check(expression, zone)
        except schedule_expressions.ScheduleError as error:
            raise TemplateError(f"{where}: {error}") from None
        group = str(properties.get("GroupName") or "default")
        if group not in self.scheduler.schedule_groups:
            self.scheduler.create_schedule_group(group, [])
        existing = self.scheduler.schedule_groups[group].schedules.pop(name, None)
        if existing is not None:
            self._since.pop(existing.arn, None)
        made = self.scheduler.create_schedule(
            description=properties.get("Description"),
            end_date=None,
            flexible_time_window=properties.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            group_name=group,
            kms_key_arn=None,
            name=name,
            schedule_expression=expression,
            schedule_expression_timezone=zone,
            start_date=None,
            state=str(properties.get("State") or "ENABLED"),
            target=dict(properties.get("Target") or {}),
            action_after_completion=properties.get("ActionAfterCompletion"),
        )
        # Kept as given (moto refuses a start date in the past, which a restart makes of any).
        made.start_date, made.end_date = properties.get("StartDate"), properties.get("EndDate")

    # -- deliveries ------------------------------------------------------------------------------------
    def receive_delivery(self, arn: str, delivery: Delivery) -> None:
        """An event put on a bus by another service (a Lambda destination, S3, a schedule)."""
        entry = delivery.payload if isinstance(delivery.payload, dict) else json.loads(delivery.text)
        entry = {**entry, "EventBusName": arn}
        failed = [e for e in self.backend.put_events([entry]) if "ErrorCode" in e]
        if failed:
            raise TargetError(f"{arn}: {failed[0]['ErrorMessage']}")

    def _refuse_scheduler(self, arn: str, delivery: Delivery) -> None:
        raise TargetError(f"{arn}: a schedule is not a target")

    def send(self, rule: Any, event: dict[str, Any]) -> None:
        """What a matching rule does with an event: each target gets its input; failures go to its
        dead-letter queue."""
        for target in list(rule.targets):
            payload = target_input(target, event)
            sqs = target.get("SqsParameters") or {}
            delivery = Delivery(payload, group_id=sqs.get("MessageGroupId"), source="aws.events")
            try:
                if ":logs:" in target["Arn"]:
                    rule._send_to_cw_log_group(
                        target["Arn"].split(":log-group:", 1)[-1].rstrip(":*"), json.loads(delivery.text)
                    )
                else:
                    self.context.targets.deliver(str(target["Arn"]), delivery)
            except (TargetError, ValueError, KeyError) as error:
                self._dead_letter(rule.arn, target, payload, str(error))

    def _dead_letter(self, source_arn: str, target: dict[str, Any], payload: str, error: str) -> None:
        queue = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue:
            print(f"serverless-local: EventBridge could not deliver to {target['Arn']}: {error}", flush=True)
            return
        attributes = {
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": error[:256]},
            "RULE_ARN": {"DataType": "String", "StringValue": source_arn},
            "TARGET_ARN": {"DataType": "String", "StringValue": str(target["Arn"])},
        }
        try:
            self.context.targets.deliver(
                str(queue), Delivery(payload, attributes=attributes, source="aws.events")
            )
        except TargetError as failed:
            print(f"serverless-local: EventBridge's dead-letter queue {queue}: {failed}", flush=True)

    def _install_hooks(self) -> None:
        from moto.events.models import Rule
        from moto.events.responses import EventsHandler
        from moto.scheduler.responses import EventBridgeSchedulerResponse

        service = self

        def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
            if rule.state != "ENABLED" or (
                rule.scheduled_expression and not rule.event_pattern.get_pattern()
            ):
                return
            if not rule.event_pattern.matches_event(event):
                return
            service.send(rule, _as_delivered(event))

        self._patches.replace(Rule, "send_to_targets", send_to_targets)
        self.context.aws.on_action(EventsHandler, self.lock, self._after_rule_action)
        self.context.aws.on_action(EventBridgeSchedulerResponse, self.lock, self._after_schedule_action)

    # -- the scheduler ----------------------------------------------------------------------------------
    def _schedules(self) -> dict[str, tuple[str, str, str, Any]]:
        """Every enabled schedule, by ARN: (name, expression, time zone, the rule or the schedule)."""
        found: dict[str, tuple[str, str, str, Any]] = {}
        bus = self.backend.event_buses.get(DEFAULT_BUS)
        for rule in list(bus.rules.values()) if bus is not None else []:
            if rule.scheduled_expression and rule.state == "ENABLED":
                found[rule.arn] = (rule.name, rule.scheduled_expression, "UTC", rule)
        for group in list(self.scheduler.schedule_groups.values()):
            for schedule in list(group.schedules.values()):
                if schedule.state == "ENABLED":
                    zone = schedule.schedule_expression_timezone or "UTC"
                    found[schedule.arn] = (schedule.name, schedule.schedule_expression, zone, schedule)
        return found

    def _tick(self) -> None:
        while not self._stopped.wait(TICK_SECONDS):
            now = datetime.datetime.now(tz=datetime.UTC)
            for arn, (_, expression, zone, owner) in self._schedules().items():
                since = self._since.setdefault(arn, now)
                if arn not in self._next:
                    self._next[arn] = _next(expression, since, since, zone)
                due = self._next[arn]
                if due is not None and due <= now:
                    self._next[arn] = _next(expression, now, since, zone)
                    if _within_dates(owner, now):
                        self.fire(owner)

    def fire(self, owner: Any) -> None:
        """Fire a scheduled rule or a schedule now."""
        self.fired += 1
        try:
            if hasattr(owner, "targets"):
                event_id = str(uuid.uuid4())
                self.send(owner, scheduled_event(owner.arn, event_id, _iso(time.time()), ACCOUNT_ID, REGION))
            else:
                self._fire_schedule(owner)
        except Exception as error:  # one schedule's failure never stops the others
            print(f"serverless-local: the schedule {owner.name} failed to fire: {error}", flush=True)

    def _fire_schedule(self, schedule: Any) -> None:
        target = schedule.target
        payload = target.get("Input")
        delivery = Delivery(
            "{}" if payload is None else str(payload),
            group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
            source="aws.scheduler",
        )
        if ":event-bus/" in str(target["Arn"]):
            parameters = target.get("EventBridgeParameters") or {}
            delivery = Delivery(
                {
                    "Source": parameters.get("Source", "aws.scheduler"),
                    "DetailType": parameters.get("DetailType", "Scheduled Event"),
                    "Detail": delivery.text,
                    "Resources": [schedule.arn],
                },
                source="aws.scheduler",
            )
        try:
            self.context.targets.deliver(str(target["Arn"]), delivery)
        except TargetError as error:
            self._dead_letter(schedule.arn, target, delivery.text, str(error))

    def find(self, name: str) -> Any:
        """A scheduled rule or a schedule by name (or ARN); LookupError if there is none."""
        for arn, (found, _, _, owner) in self._schedules().items():
            if name in (found, arn):
                return owner
        raise LookupError(f"no enabled schedule or scheduled rule is named {name}")

    # -- the journal of what the endpoint made -----------------------------------------------------------
    def _after_rule_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action not in _RULE_ACTIONS or not self._recording:
            return
        bus = str(params.get("EventBusName") or DEFAULT_BUS).rsplit("/", 1)[-1]
        name = str(params.get("Name") or params.get("Rule") or "")
        found = self.backend.event_buses.get(bus)
        rule = found.rules.get(name) if found is not None else None
        if rule is None:
            self.store.append([{"op": "rule_deleted", "bus": bus, "name": name}])
            return
        self.store.append(
            [
                {
                    "op": "rule",
                    "bus": bus,
                    "name": name,
                    "pattern": rule.event_pattern.dump(),
                    "schedule": rule.scheduled_expression,
                    "state": rule.state,
                    "targets": rule.targets,
                }
            ]
        )

    def _after_schedule_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action not in _SCHEDULE_ACTIONS or not self._recording:
            return
        name = str(params.get("Name") or handler.uri.rsplit("/", 1)[-1])
        group = str(params.get("GroupName") or "default")
        found = self.scheduler.schedule_groups.get(group)
        schedule = found.schedules.get(name) if found is not None else None
        if schedule is None:
            self.store.append([{"op": "schedule_deleted", "group": group, "name": name}])
            return
        self.store.append(
            [
                {
                    "op": "schedule",
                    "name": name,
                    "properties": {
                        "GroupName": group,
                        "ScheduleExpression": schedule.schedule_expression,
                        "ScheduleExpressionTimezone": schedule.schedule_expression_timezone,
                        "FlexibleTimeWindow": schedule.flexible_time_window,
                        "Target": schedule.target,
                        "State": schedule.state,
                        "StartDate": schedule.start_date,
                        "EndDate": schedule.end_date,
                    },
                }
            ]
        )

    def _replay(self, entry: dict[str, Any]) -> None:
        op = entry["op"]
        try:
            if op == "rule":
                if entry["bus"] not in self.backend.event_buses:
                    self.backend.create_event_bus(entry["bus"])
                self.put_rule(
                    name=entry["name"],
                    bus=entry["bus"],
                    pattern=entry["pattern"],
                    schedule=entry["schedule"],
                    state=entry["state"],
                    targets=entry["targets"],
                    where=f"rule {entry['name']}",
                )
            elif op == "rule_deleted":
                bus = self.backend.event_buses.get(entry["bus"])
                if bus is not None:
                    bus.rules.pop(entry["name"], None)
            elif op == "schedule":
                self.put_schedule(entry["name"], entry["properties"], f"schedule {entry['name']}")
            elif op == "schedule_deleted":
                group = self.scheduler.schedule_groups.get(entry["group"])
                if group is not None:
                    group.schedules.pop(entry["name"], None)
        except TemplateError as error:
            self.context.notes.append(f"EventBridge: a journaled {op} was not restored: {error}")


def _next(
    expression: str, after: datetime.datetime, since: datetime.datetime, zone: str
) -> datetime.datetime | None:
    try:
        return schedule_expressions.next_time(expression, after, since=since, timezone=zone)
    except schedule_expressions.ScheduleError:
        return None


def _within_dates(owner: Any, now: datetime.datetime) -> bool:
    """A Scheduler schedule fires only between its StartDate and EndDate."""
    for name, before in (("start_date", False), ("end_date", True)):
        value = getattr(owner, name, None)
        if not value:
            continue
        moment = value if isinstance(value, datetime.datetime) else _date(value)
        if moment is None:
            continue
        if (now > moment) if before else (now < moment):
            return False
    return True


def _date(value: Any) -> datetime.datetime | None:
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _target(declared: dict[str, Any]) -> dict[str, Any]:
    """A template's target as PutTargets takes it (JSON-valued fields as text)."""
    target = dict(declared)
    if isinstance(target.get("Input"), dict | list):
        target["Input"] = json.dumps(target["Input"])
    transformer = target.get("InputTransformer")
    if isinstance(transformer, dict) and isinstance(transformer.get("InputPathsMap"), dict):
        target["InputTransformer"] = dict(transformer)
    return target


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge hands it on: `time` as text, without moto's own fields."""
    delivered = {k: v for k, v in event.items() if k != "ingestion-time"}
    if isinstance(delivered.get("time"), int | float):
        delivered["time"] = _iso(float(delivered["time"]))
    delivered.setdefault("account", ACCOUNT_ID)
    return delivered
