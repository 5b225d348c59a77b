"""The seam every event source implements: a SAM event type, connected the way AWS connects it.

Each of a function's (or state machine's) `Events` whose type an event source names is handed to it
once every service is attached (its queue, table, topic, bucket or bus exists in the embedded AWS by
then). It creates what SAM's transform would create for it (an event source mapping, a subscription, a
notification, a rule, a schedule) in the embedded AWS, and the event then reaches the function as AWS
delivers it: pollers read queues and streams through the embedded AWS (as Lambda's event source
mappings do) and invoke the function synchronously; pushing services (SNS, S3, EventBridge, EventBridge
Scheduler) hand their events to the target's ARN (`targets.Targets`), which for a function is an
asynchronous invocation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from serverless_local.stack import Event
from serverless_local.template import TemplateError

if TYPE_CHECKING:
    from serverless_local.services.base import ServiceContext
    from serverless_local.services.lambda_.event_sources.poller import Functions, Mappings


@dataclass(frozen=True)
class EventTarget:
    """Who receives an event: a function (or a state machine) of the template."""

    #: Its logical id.
    logical_id: str
    #: Its ARN (the target ARN of a rule, a subscription's endpoint).
    arn: str
    #: Its name (a function's FunctionName).
    name: str


@dataclass
class Runtime:
    """What every event source is given."""

    context: ServiceContext
    functions: Functions
    #: The event source mappings (in moto) and their pollers.
    mappings: Mappings
    #: Lines for the banner about what was connected.
    connected: list[str] = field(default_factory=list)


class EventSource:
    """One kind of event (one or more SAM event types), connected from the template.

    Subclasses name their `event_types`; `connect` is called once per event of those types; `start`
    after every event is connected (pollers start there), `stop` when the server stops. `describe`
    gives the banner's words for what was connected.
    """

    #: The SAM event types (`Type:` of an entry of `Events`) this source runs.
    event_types: ClassVar[frozenset[str]] = frozenset()
    #: Whether `connect` makes an event source mapping in moto's Lambda (on the function registered
    #: there, which must then exist before the services connect).
    makes_mappings: ClassVar[bool] = False

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.context = runtime.context

    def connect(self, event: Event, target: EventTarget) -> None:
        """Create in the embedded AWS what the event needs for `target` to receive it."""
        raise NotImplementedError

    def start(self) -> None:
        """Every event is connected: start delivering."""

    def stop(self) -> None:
        """Stop delivering (what is undelivered stays where AWS would keep it)."""

    # -- helpers for subclasses ------------------------------------------------------------------------
    def connected(self, phrase: str) -> None:
        """Say in the banner what was connected ("Fn <- SQS jobs")."""
        self.runtime.connected.append(phrase)

    def resolve(self, event: Event, value: Any, name: str) -> Any:
        """A property of the event, resolved; a TemplateError names the event and the property."""
        return self.context.template.resolve(value, f"{event.owner}.Events.{event.event_id}.{name}")

    def required(self, event: Event, name: str) -> Any:
        """A property the event must have."""
        if name not in event.properties:
            raise TemplateError(f"{event.owner}.Events.{event.event_id}: {event.type} events need {name}")
        return self.resolve(event, event.properties[name], name)
