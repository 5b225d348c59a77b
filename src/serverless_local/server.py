"""`serverless-local serve`: one local AWS for every service the template declares.

The runtime binds two ports (the API Gateway, and the AWS endpoint that serves every embedded service
as moto's server does), starts moto in-process, then starts the services of `SERVICES` in order, each
built from the template's resources of its types, and serves. Each service that holds data journals
it under its own namespace of the state directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from serverless_local.coverage import Coverage, coverage
from serverless_local.embedded_aws import EmbeddedAws, ServiceUnavailable
from serverless_local.http import HttpRequest, HttpResponse
from serverless_local.http_edge import HttpEdge, Limits, wsgi_handler
from serverless_local.journal import DIRECTORY_MODE, private_opener, write_private
from serverless_local.options import INTEGRATION_TIMEOUT_SECONDS, SERVER_FILE, ServeOptions
from serverless_local.services.registry import SERVICES, Service, ServiceContext
from serverless_local.stack import LocalTemplate
from serverless_local.template import TemplateError

__all__ = ["INTEGRATION_TIMEOUT_SECONDS", "LocalServer", "ServeOptions", "StartError", "run"]

LOCK = "LOCK"
RELOAD_POLL_SECONDS = 0.5
#: Background work (warm-ups, the start's compaction) begins at the first answer, or this long after start.
BACKGROUND_AFTER_SECONDS = 1.0
#: The AWS endpoint's handlers wait on moto's locks only, never on a function: a small pool does.
AWS_LIMITS = Limits(max_body_bytes=64 * 1024 * 1024, workers=16)


class StartError(Exception):
    """The server cannot start; the message says why in one sentence."""


class LocalServer:
    """The whole local runtime; `start` binds and loads, `serve_forever` answers, `stop` ends it."""

    def __init__(self, options: ServeOptions, services: tuple[type[Service], ...] = SERVICES) -> None:
        self.options = options
        self.service_classes = services
        self.context: ServiceContext | None = None
        self.aws: EmbeddedAws | None = None
        self.gateway_edge: HttpEdge | None = None
        self.aws_edge: HttpEdge | None = None
        self.notes: list[str] = []
        self.coverage: Coverage | None = None
        self.startup_seconds = 0.0
        self._stopping = threading.Event()
        self._state_lock: IO[str] | None = None

    # -- start -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Read the template, bind both ports, start every service. Raises StartError or TemplateError."""
        began = time.perf_counter()
        options = self.options
        if not options.template.is_file():
            raise StartError(f"no template at {options.template}")
        template = LocalTemplate(options.template, options.parameter_overrides, options.stack_name)
        for kind in self.service_classes:  # a template it cannot run fails here, before anything is bound
            kind.check(template)
        runs = {kind for service in self.service_classes for kind in service.resource_types}
        if not any(resource.type in runs for resource in template.resources.values()):
            kinds = sorted({resource.type for resource in template.resources.values()})
            raise StartError(
                f"{options.template} declares nothing the local runtime runs ({', '.join(kinds)})"
            )
        self._prepare_state()
        limits = Limits(idle_seconds=options.idle_timeout, max_connections=options.max_connections)
        self.gateway_edge = HttpEdge("api-gateway", _not_ready, _not_ready_refusal, limits, access_log=True)
        try:
            self.gateway_edge.bind(options.host, options.port)
        except OSError as error:
            raise StartError(f"cannot listen on {options.host}:{options.port}: {error.strerror}") from None
        self.aws_edge = self._bind_aws()
        if not _loopback(options.host):
            self.notes.append(
                f"the AWS endpoint {self.aws_edge.url} answers anyone who can reach it, with any "
                "credentials: they can read and change every table, object and user "
                "(docs/local-development.md, 'Safe to leave running')"
            )

        self.aws = EmbeddedAws()
        context = ServiceContext(template, self.aws, options, endpoint=self.aws_edge.url)
        self.context = context
        context.notes.extend(
            f"parameter {name} has no Default: {value!r} here (--parameter-overrides {name}=… to choose)"
            for name, value in template.resolver.stand_ins.items()
        )
        for kind in self.service_classes:
            if kind.uses_moto and not self.aws.running:
                self.aws.start()
            service = kind(context)
            service.start()
            context.started[kind] = service
        if not self.aws.running:
            self.aws.start()
        for service in context.started.values():
            service.attach()
        for service in context.started.values():
            service.connect()
        self.coverage = coverage(
            template,
            (kind for service in self.service_classes for kind in service.resource_types),
            (kind for service in self.service_classes for kind in service.event_types),
            context.not_emulated,
        )
        self.aws_edge.handler = wsgi_handler(self.aws.wsgi_app(), options.host)
        # Only now, and once the first request is answered: with one GIL, work beside the attaches
        # or the first answer would only slow them down.
        self.gateway_edge.first_answer = context.background.begin
        context.background.start(BACKGROUND_AFTER_SECONDS)
        context.notes[:0] = self.notes  # the server's own notes (ports, the endpoint's exposure) first
        self.notes = context.notes

        if options.reload:
            self._watch_sources()
        self.aws_edge.start()
        self.gateway_edge.handler = self._answer
        self.gateway_edge.refusal = context.api_refusal or _plain_refusal
        self.gateway_edge.start()
        self.startup_seconds = time.perf_counter() - began

    def _answer(self, request: HttpRequest) -> HttpResponse:
        """A request on the API port: the first API that routes it answers (REST APIs, then HTTP APIs)."""
        assert self.context is not None
        routers = self.context.api_routers
        for router in routers:
            response = router.route(request)
            if response is not None:
                return response  # type: ignore[no-any-return]
        if routers:
            return routers[0].no_route(request)  # type: ignore[no-any-return]
        return HttpResponse(404, [("Content-Type", "application/json")], b'{"message": "Not Found"}')

    def wait_ready(self) -> None:
        """Return once every service warming in the background is ready; raise its error if one failed.

        `start` returns, and the server answers, before that: requests for a warming service wait.
        """
        assert self.context is not None
        for warmup in self.context.background.warmups:
            with contextlib.suppress(ServiceUnavailable):
                warmup.wait()
            if isinstance(warmup.error, TemplateError | StartError):
                raise warmup.error
            if warmup.error is not None:
                raise StartError(f"{warmup.service.title} could not start: {warmup.error}") from warmup.error

    def _prepare_state(self) -> None:
        state = self.options.state_dir
        try:
            state.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
            self._state_lock = _lock(state)
            if self.options.fresh:
                for kind in self.service_classes:
                    if kind.namespace:
                        shutil.rmtree(state / kind.namespace, ignore_errors=True)
                    for name in kind.state_files:
                        with contextlib.suppress(FileNotFoundError):
                            (state / name).unlink()
        except OSError as error:
            raise StartError(f"cannot use the state directory {state}: {error.strerror}") from None

    def _bind_aws(self) -> HttpEdge:
        assert self.gateway_edge is not None
        edge = HttpEdge("aws-endpoint", _not_ready, _aws_refusal, AWS_LIMITS)
        wanted = self.options.aws_port
        api_port = self.gateway_edge.address[1]
        port = wanted if wanted is not None else (api_port + 1 if self.options.port else 0)
        try:
            edge.bind(self.options.host, port)
        except OSError as error:
            if wanted is not None:
                raise StartError(
                    f"cannot serve the AWS endpoint on port {wanted}: {error.strerror}"
                ) from None
            self.notes.append(f"port {port} is taken, so the AWS endpoint is on a free port")
            edge.bind(self.options.host, 0)
        return edge

    # -- serve -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The gateway's base URL."""
        assert self.gateway_edge is not None
        return self.gateway_edge.url

    @property
    def endpoint(self) -> str:
        """The AWS endpoint's URL."""
        assert self.aws_edge is not None
        return self.aws_edge.url

    def banner(self) -> str:
        """A summary line (the URLs), a line per service, then notes."""
        assert self.context is not None
        stages = ",".join(sorted(self.context.api_stages))
        items = sum(service.item_count() for service in self.context.started.values())
        program = self.options.program
        links = "  ".join(f"{label} {self.url}/" for label in self.options.links)
        staged = f" (stage {stages})" if stages else ""
        lines = [
            f"{program}: {links}{staged}  AWS {self.endpoint}  "
            f"state {self.options.state_dir}/ ({items} items)  ready in {self.startup_seconds * 1000:.0f} ms",
            f"  {'AWS endpoint':<12} {self.endpoint}  (the services below and every other one moto embeds; "
            "any region, any credentials)",
        ]
        warming = {w.service: w for w in self.context.background.warmups if not w.ready}
        for service in self.context.started.values():
            report = service.report()
            if report and service.title:
                if service in warming:
                    report += f" ({warming[service].doing}; its requests at the AWS endpoint wait)"
                lines.append(f"  {service.title:<12} {report}")
        if self.coverage is not None:
            lines.extend(self.coverage.lines())
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def serve_forever(self) -> None:
        """Answer requests until `stop` (or Ctrl-C / SIGTERM in the main thread); raise a warm-up's error."""
        if self.context is not None and self.context.background.warmups:  # say when they are done
            self.wait_ready()
            for warmup in self.context.background.warmups:
                report = warmup.service.report()
                if report:
                    print(f"{self.options.program}: {warmup.service.title} ready: {report}", flush=True)
        while not self._stopping.wait(0.2):
            pass

    def stop(self) -> None:
        """Stop answering, stop every service in reverse order, then the embedded AWS."""
        self._stopping.set()
        if self.gateway_edge is not None:
            self.gateway_edge.stop()
        if self.context is not None:
            self.context.background.stop()
            for service in reversed(list(self.context.started.values())):
                service.stop()
        if self.aws_edge is not None:
            self.aws_edge.stop()
        if self.aws is not None:
            self.aws.stop()
        if self._state_lock is not None:
            self._state_lock.close()

    def _watch_sources(self) -> None:
        """Note the functions' sources as they are now, before the first request, and reload the
        handlers whenever they change from then on (polled: a thread that starts later could note
        an edit already made as the state to compare with, and miss it)."""
        assert self.context is not None
        services = [service for service in self.context.started.values() if service.sources()]
        directories = {directory for service in services for directory in service.sources()}
        seen = _sources_state(directories)

        def watch() -> None:
            nonlocal seen
            while not self._stopping.wait(RELOAD_POLL_SECONDS):
                now = _sources_state(directories)
                if now != seen:
                    changed = sorted(set(now.items()) ^ set(seen.items()))
                    seen = now
                    for service in services:
                        service.reload()
                    program = self.options.program
                    print(f"{program}: {changed[0][0]} changed, reloading the handler", file=sys.stderr)

        threading.Thread(target=watch, name="reload", daemon=True).start()


def _loopback(host: str) -> bool:
    """Whether `host` is a loopback address (or localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _not_ready(request: Any) -> HttpResponse:
    return HttpResponse(503, [("Content-Type", "application/json")], b'{"message": "starting"}')


def _not_ready_refusal(error: Any) -> HttpResponse:
    return _not_ready(None)


def _plain_refusal(error: Any) -> HttpResponse:
    body = json.dumps({"message": error.message}).encode()
    return HttpResponse(error.status, [("Content-Type", "application/json")], body)


def _sources_state(directories: set[Path]) -> dict[str, tuple[int, int]]:
    """Each Python file's modification time (ns) and size."""
    found: dict[str, tuple[int, int]] = {}
    for directory in directories:
        for root, dirs, files in os.walk(directory):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with contextlib.suppress(OSError):
                        status = os.stat(path)
                        found[path] = (status.st_mtime_ns, status.st_size)
    return found


def _lock(state: Path) -> IO[str]:
    """Hold the state directory for this process: two servers appending to one journal would corrupt it."""
    handle = open(state / LOCK, "a+", opener=private_opener)  # noqa: SIM115 (held until the end)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "?"
        handle.close()
        raise StartError(f"the state directory {state} is in use by another server (pid {owner})") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle  # the lock lasts as long as the file stays open: until this process ends


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(options: ServeOptions) -> None:
    """Start, print the banner, serve until Ctrl-C or SIGTERM, stop cleanly."""
    server = LocalServer(options)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    # Where the other commands (`serverless-local logs`, `fire`) find this server.
    write_private(
        options.state_dir / SERVER_FILE,
        json.dumps({"api": server.url, "endpoint": server.endpoint, "pid": os.getpid()}, indent=1).encode(),
        sync=False,
    )
    # SIGTERM stops like Ctrl-C: the journal is already durable, this only makes the exit tidy. SIGINT
    # is set explicitly because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        print(server.banner(), flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(f"{options.program}: stopped", file=sys.stderr, flush=True)


def _aws_refusal(error: Any) -> HttpResponse:
    """The AWS endpoint's answer to a request it refuses or fails on, in the AWS JSON error shape."""
    import json

    body = json.dumps({"__type": error.error_type, "message": error.message}).encode()
    return HttpResponse(
        error.status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", error.error_type)], body
    )
