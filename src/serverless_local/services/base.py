"""The seam every local service implements, and what the runtime hands each one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from serverless_local.embedded_aws import EmbeddedAws, ServiceUnavailable
from serverless_local.journal import Recovered, Store, private_directory
from serverless_local.options import ServeOptions
from serverless_local.services.lambda_.function_logs import LogWriter
from serverless_local.stack import Event, LocalTemplate, Resource
from serverless_local.targets import Targets

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

    #: What the template declares that the runtime does not emulate, by name (the banner lists it).
    not_emulated: list[str] = field(default_factory=list)
    #: Where functions' log events go (the CloudWatch Logs service registers it).
    log_writer: LogWriter | None = None
    #: How each service's ARNs receive a delivery (an event, a message, a notification).
    targets: Targets = field(default_factory=Targets)
    #: The APIs served on the API port, in order (REST APIs, HTTP APIs): each routes the requests
    #: that are its own.
    api_routers: list[ApiRouter] = field(default_factory=list)
    #: The verification keys of a token issuer of the template (a user pool), or None (the Cognito
    #: service registers it).
    issuer_keys: Callable[[str], Any] | None = None
    #: Where rules and schedules are made (the EventBridge service registers itself).
    rules: Rules | None = None
    #: The API port's answer to a request its HTTP edge refused, and the stages its APIs serve (the
    #: API Gateway service registers them).
    api_refusal: Callable[[Any], Any] | None = None
    api_stages: set[str] = field(default_factory=set)
    #: Run `work(moto's S3 backend)` once `bucket` exists (the S3 service registers it: its buckets are
    #: restored in the background); LookupError for a bucket it does not hold.
    on_bucket: Callable[[str, Callable[[Any], None]], None] | None = None
    #: What is done after the server answers: warm-ups, then deferred work (see `Service.warm`).
    background: Background = field(default_factory=lambda: Background())

    def store(self, namespace: str) -> Store:
        """The journal and snapshots of `namespace` in the state directory (`lambda/async`: its
        top folder, which an older version may have left readable, made owner-only too)."""
        private_directory(self.options.state_dir / namespace.split("/")[0])
        return Store(self.options.state_dir / namespace, sync=self.options.sync)

    def service(self, kind: type[S]) -> S:
        """A service started before the caller."""
        found = self.started.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"{kind.__name__} is not running (it must come earlier in SERVICES)")
        return found


class Rules(Protocol):
    """EventBridge rules and EventBridge Scheduler schedules, as event sources make them."""

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
        """A rule with its targets (a TemplateError names `where` what EventBridge refuses)."""

    def put_schedule(self, name: str, properties: dict[str, Any], where: str) -> None:
        """A Scheduler schedule (its properties as the template's)."""


class ApiRouter(Protocol):
    """One kind of API on the API port."""

    def route(self, request: Any) -> Any:
        """The response to `request` (an HttpRequest), or None when no route of this API is its."""

    def no_route(self, request: Any) -> Any:
        """The answer to a request no API routes."""


class Warmup:
    """Work a service finishes after the server answers; its requests wait for it (`EmbeddedAws.hold`).

    Doing it in the background lets the server answer its first request without paying for it (the
    Step Functions engine's import is ~1.2 s, registering the functions in moto's Lambda ~0.3 s).
    Warm-ups run one after the other, in the order they were asked for (`Background`). An error in
    one is kept: the holder's requests are answered with it, and `wait` raises it (the CLI ends the
    server with it).
    """

    def __init__(self, service: Service, doing: str, work: Callable[[], None]) -> None:
        self.service = service
        #: What the banner says while it runs ("the state machines are being prepared").
        self.doing = doing
        self.error: Exception | None = None
        self._work = work
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        service.context.aws.hold(service.signing_name, self.wait)

    def run(self) -> None:
        """Do the work, on the calling thread (its own calls pass the gate)."""
        self._thread = threading.current_thread()
        try:
            self._work()
        except Exception as error:  # kept for every waiter: it is the start's failure, told later
            self.error = error
        finally:
            self._done.set()

    def cancel(self, reason: str) -> None:
        """Never run it: every waiter is answered with `reason`."""
        self.error = ServiceUnavailable(reason)
        self._done.set()

    @property
    def ready(self) -> bool:
        """Whether the work ended (successfully or not)."""
        return self._done.is_set()

    def wait(self) -> None:
        """Return once the work succeeded; raise ServiceUnavailable with its error if it failed."""
        if threading.current_thread() is self._thread:
            return  # the work's own calls pass the gate
        self._done.wait()
        if self.error is not None:
            raise ServiceUnavailable(str(self.error))


class Background:
    """The one thread that runs the warm-ups, in order, then the deferred work (a compaction...).

    It begins once the gateway has answered its first request, or `delay` seconds after `start`,
    whichever comes first: the first answer shares the interpreter with none of it. A later warm-up
    may rely on an earlier one (Lambda registers its functions in moto before Step Functions creates
    the machines whose tasks invoke them).
    """

    def __init__(self) -> None:
        self.warmups: list[Warmup] = []
        #: Work with no one waiting for it, done after every warm-up.
        self.later: list[Callable[[], None]] = []
        self._stopping = threading.Event()
        self._begin = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, delay: float) -> None:
        """Begin after the first answer (`begin`) or after `delay` seconds."""
        self._thread = threading.Thread(target=self._run, args=(delay,), name="background", daemon=True)
        self._thread.start()

    def begin(self) -> None:
        """Begin now (the gateway has answered its first request)."""
        self._begin.set()

    def _run(self, delay: float) -> None:
        self._begin.wait(delay)
        for warmup in self.warmups:
            if self._stopping.is_set():
                warmup.cancel("the local runtime is stopping")
            else:
                warmup.run()
        for work in self.later:
            if not self._stopping.is_set():
                work()

    def stop(self) -> None:
        """Run nothing more; wait for what is running (it may be using moto)."""
        self._stopping.set()
        self._begin.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for warmup in self.warmups:
            if not warmup.ready:
                warmup.cancel("the local runtime is stopping")


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
    #: The name its requests are signed with (the credential scope's service), which `warm` holds.
    signing_name: ClassVar[str] = ""
    #: Files at the top of the state directory it owns (`--fresh` deletes them with its namespace).
    state_files: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check(cls, template: LocalTemplate) -> None:
        """Raise TemplateError for what of `template` it could never run: called before anything is
        bound or started, so that a template the runtime cannot run stops the start at once."""

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

    def connect(self) -> None:
        """Once every service is attached: wire what joins services (subscriptions, notifications,
        rules, event source mappings), whose other ends now exist."""

    def recover(self, store: Store) -> Recovered:
        """What `store` holds, read back at start; what was repaired or set aside goes to the banner,
        in the same words for every service (call it before the banner: in `start` or `attach`)."""
        recovered = store.recover()
        self.context.notes.extend(f"{self.title}: {note}" for note in recovered.notes)
        return recovered

    def warm(self, doing: str, work: Callable[[], None]) -> Warmup:
        """Run `work` in the background once the server answers (see `Background`); requests for this
        service wait until it has run (held from now on)."""
        warmup = Warmup(self, doing, work)
        self.context.background.warmups.append(warmup)
        return warmup

    def stop(self) -> None:
        """Stop serving; the journal is already durable."""

    def report(self) -> str | None:
        """The service's banner line (None: nothing to say)."""
        return None

    def item_count(self) -> int:
        """The items it holds, counted in the banner's first line (a table's items)."""
        return 0

    def sources(self) -> set[Path]:
        """The directories of code it runs, which `--reload` watches."""
        return set()

    def reload(self) -> None:
        """The code under `sources` changed: run the new code from now on."""
