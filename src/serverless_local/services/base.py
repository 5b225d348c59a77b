"""The seam every local service implements, and what the runtime hands each one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from serverless_local.embedded_aws import EmbeddedAws
from serverless_local.journal import Store
from serverless_local.options import ServeOptions
from serverless_local.stack import Event, LocalTemplate, Resource

S = TypeVar("S", bound="Service")


@dataclass
class ServiceContext:
    """Everything a service may use: the template, the embedded AWS, the state directory, its peers."""

    template: LocalTemplate
    aws: EmbeddedAws
    options: ServeOptions
    #: The one AWS endpoint every function's SDK reaches (AWS_ENDPOINT_URL).
    endpoint: str
    #: The services started so far, by class (a service may use those registered before it).
    started: dict[type[Service], Service] = field(default_factory=dict)
    #: Lines for the banner: what is substituted, damaged or not run.
    notes: list[str] = field(default_factory=list)
    #: Gateway authorizers by type (SAM `Auth.Authorizers` kinds): a service that can enforce one
    #: registers it (the user pool service does for Cognito); routes that name another pass, with a note.
    authorizers: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def store(self, namespace: str) -> Store:
        """The journal and snapshots of `namespace` in the state directory."""
        return Store(self.options.state_dir / namespace, sync=self.options.sync)

    def service(self, kind: type[S]) -> S:
        """A service started before the caller."""
        found = self.started.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"{kind.__name__} is not running (it must come earlier in SERVICES)")
        return found


class Service:
    """A local AWS service: built from the template's resources of its types, started, reported, stopped.

    Subclasses name the resource types and event types they run; `start` creates what the template
    declares (in the embedded AWS, or their own server), replays what the journal of `namespace` holds,
    and `stop` ends it. `report` is the service's line in the banner.
    """

    #: As the banner names the service.
    title: ClassVar[str] = ""
    #: The template resource types this service runs.
    resource_types: ClassVar[frozenset[str]] = frozenset()
    #: The event types (of functions' `Events`) this service runs.
    event_types: ClassVar[frozenset[str]] = frozenset()
    #: The state directory namespace of its journal, when it holds data.
    namespace: ClassVar[str | None] = None
    #: Whether it needs the embedded moto started (moto's import is most of start-up; a service
    #: that does not need it, such as Lambda, starts first, in parallel with it).
    uses_moto: ClassVar[bool] = True

    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    @property
    def resources(self) -> list[Resource]:
        """The template's resources of this service's types."""
        return self.context.template.of_type(self.resource_types)

    @property
    def events(self) -> list[Event]:
        """The template's events of this service's types."""
        return self.context.template.events(self.event_types)

    def start(self) -> None:
        """Create what the template declares and restore what the state directory holds."""

    def attach(self) -> None:
        """Once moto runs (every service started): register in it what the endpoint should show."""

    def stop(self) -> None:
        """Stop serving; the journal is already durable."""

    def report(self) -> str | None:
        """The service's banner line (None: nothing to say)."""
        return None
