"""`serverless-crud serve`: the template's tables in an embedded AWS, its functions behind a local gateway.

One process: a threaded HTTP server (the gateway) in front of one warm Lambda instance, moto's
DynamoDB in-process and on a local endpoint, and a journal that keeps every acknowledged write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from serverless_local.embedded_aws import REGION, EmbeddedAws
from serverless_local.functions import Instance
from serverless_local.gateway import (
    FAILED,
    INTEGRATION_TIMEOUT_SECONDS,
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    Gateway,
    HttpRequest,
    HttpResponse,
)
from serverless_local.journal import Store
from serverless_local.stack import FunctionSpec, LocalStack, read_stack

LOCAL_VALUES = "local-values.json"
LOCK = "LOCK"
DYNAMODB_DIR = "dynamodb"
RELOAD_POLL_SECONDS = 0.5


@dataclass
class ServeOptions:
    """What `serverless-crud serve` was asked for."""

    template: Path = Path("template.yaml")
    host: str = "127.0.0.1"
    port: int = 3000
    #: None: the API port + 1 (or a free port when the API port is 0).
    dynamodb_port: int | None = None
    state_dir: Path = Path(".local")
    fresh: bool = False
    reload: bool = False
    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    #: fsync each journal write (off only for throw-away state).
    sync: bool = True
    parameter_overrides: dict[str, str] = field(default_factory=dict)


class StartError(Exception):
    """The server cannot start; the message says why in one sentence."""


class LocalValues:
    """Stand-ins for values only AWS can provide (e.g. a secret), generated once, kept in the state dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        self.notes: list[str] = []

    def for_function(self, spec: FunctionSpec) -> dict[str, str]:
        """A local value for each variable of `spec` the template cannot resolve here."""
        values = {}
        for name, reason in spec.unresolved.items():
            key = f"{spec.logical_id}.{name}"
            if key not in self.values:
                self.values[key] = secrets.token_hex(32)
                self.path.write_text(json.dumps(self.values, indent=1))
                self.path.chmod(0o600)
            values[name] = self.values[key]
            self.notes.append(
                f"{spec.logical_id} {name}: a random local value kept in {self.path} ({reason})"
            )
        return values


class LocalServer:
    """The whole local runtime; `start` binds and loads, `serve_forever` answers, `stop` ends it."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.stack: LocalStack | None = None
        self.aws: EmbeddedAws | None = None
        self.instance: Instance | None = None
        self.httpd: ThreadingHTTPServer | None = None
        self.dynamodb_endpoint = ""
        self.notes: list[str] = []
        self.startup_seconds = 0.0
        self._stopping = threading.Event()
        self._state_lock: IO[str] | None = None

    # -- start -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Read the template, rebuild the state, bind both ports. Raises StartError or TemplateError."""
        began = time.perf_counter()
        options = self.options
        if not options.template.is_file():
            raise StartError(f"no template at {options.template}")
        stack = read_stack(options.template, options.parameter_overrides)
        if not stack.routes:
            raise StartError(f"{options.template} declares no function with an Api event to serve")
        self.stack = stack
        state = options.state_dir
        try:
            state.mkdir(parents=True, exist_ok=True)
            self._state_lock = _lock(state)
            if options.fresh:
                shutil.rmtree(state / DYNAMODB_DIR, ignore_errors=True)
                with contextlib.suppress(FileNotFoundError):
                    (state / LOCAL_VALUES).unlink()
            store = Store(state / DYNAMODB_DIR, sync=options.sync)
        except OSError as error:
            raise StartError(f"cannot use the state directory {state}: {error.strerror}") from None
        local_values = LocalValues(state / LOCAL_VALUES)
        environments = {name: local_values.for_function(spec) for name, spec in stack.functions.items()}
        self.notes.extend(local_values.notes)

        self.httpd = self._bind_gateway()
        aws = EmbeddedAws(store)
        aws.start()
        self.aws = aws
        report = aws.load()
        if (damaged := report.damaged) is not None:
            self.notes.append(
                f"the journal {damaged.damaged_file} is damaged at line {damaged.damaged_at_line} "
                f"({damaged.problem}): the {report.journal_entries} entries before it are kept, "
                "the rest is set aside as *.damaged"
            )
        self.notes.extend(aws.ensure_tables(stack.tables, stack.ttl))
        if report.journal_entries or report.damaged is not None:
            aws.compact_in_background()
        self.dynamodb_endpoint = self._bind_endpoint(aws)
        self.instance = Instance(
            lambda spec: self._runtime_environment(spec, environments[spec.logical_id]),
            busy_thread=lambda: aws.busy_thread,
        )
        aws.after_request = self.instance.deliver_pending
        for spec in stack.functions.values():
            if any(route.function == spec.logical_id for route in stack.routes):
                self.instance.warm(spec)
        self.httpd.gateway = Gateway(  # type: ignore[attr-defined]
            stack, self.instance.invoke, options.integration_timeout
        )
        self.items_loaded = aws.item_count()
        self.startup_seconds = time.perf_counter() - began

    def _bind_gateway(self) -> ThreadingHTTPServer:
        try:
            httpd = _Server((self.options.host, self.options.port), _Handler)
        except OSError as error:
            raise StartError(
                f"cannot listen on {self.options.host}:{self.options.port}: {error.strerror}"
            ) from None
        return httpd

    def _bind_endpoint(self, aws: EmbeddedAws) -> str:
        assert self.httpd is not None
        wanted = self.options.dynamodb_port
        port = wanted if wanted is not None else (self.httpd.server_port + 1 if self.options.port else 0)
        try:
            return aws.serve_endpoint(self.options.host, port)
        except OSError as error:
            if wanted is not None:
                raise StartError(f"cannot serve DynamoDB on port {wanted}: {error.strerror}") from None
            self.notes.append(f"port {port} is taken, so the DynamoDB endpoint is on a free port")
            return aws.serve_endpoint(self.options.host, 0)

    def _runtime_environment(self, spec: FunctionSpec, local_values: dict[str, str]) -> dict[str, str]:
        """What Lambda's runtime adds to the function's own variables (and the local stand-ins)."""
        return {
            **local_values,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "LAMBDA_TASK_ROOT": str(spec.code_uri),
            "_HANDLER": spec.handler,
            # What `sam local` sets: Powertools and the X-Ray SDK stay quiet without a daemon.
            "AWS_SAM_LOCAL": "true",
        }

    # -- serve -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The gateway's base URL."""
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def banner(self) -> str:
        """One line with the URLs, then notes (local stand-ins, damaged journal), one per line."""
        assert self.stack is not None
        stages = ",".join(sorted({api.stage for api in self.stack.apis.values()}))
        lines = [
            f"serverless-crud: UI {self.url}/  API {self.url}/ (stage {stages})  "
            f"DynamoDB {self.dynamodb_endpoint}  state {self.options.state_dir}/ "
            f"({self.items_loaded} items)  ready in {self.startup_seconds * 1000:.0f} ms"
        ]
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def serve_forever(self) -> None:
        """Answer requests until `stop` (or Ctrl-C / SIGTERM in the main thread)."""
        assert self.httpd is not None
        if self.options.reload:
            threading.Thread(target=self._watch_sources, name="reload", daemon=True).start()
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop answering, stop the instance and the embedded AWS, close the journal."""
        self._stopping.set()
        if self.httpd is not None:
            self.httpd.server_close()
        if self.instance is not None:
            self.instance.stop()
        if self.aws is not None:
            self.aws.stop()
            self.aws.store.close()
        if self._state_lock is not None:
            self._state_lock.close()

    def _watch_sources(self) -> None:
        assert self.stack is not None
        assert self.instance is not None
        directories = {spec.code_uri for spec in self.stack.functions.values()}
        seen = _mtimes(directories)
        while not self._stopping.wait(RELOAD_POLL_SECONDS):
            now = _mtimes(directories)
            if now != seen:
                changed = sorted(set(now.items()) ^ set(seen.items()))
                seen = now
                self.instance.mark_stale()
                print(f"serverless-crud: {changed[0][0]} changed, reloading the handler", file=sys.stderr)


def _mtimes(directories: set[Path]) -> dict[str, float]:
    found: dict[str, float] = {}
    for directory in directories:
        for root, dirs, files in os.walk(directory):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with contextlib.suppress(OSError):
                        found[path] = os.stat(path).st_mtime
    return found


def _lock(state: Path) -> IO[str]:
    """Hold the state directory for this process: two servers appending to one journal would corrupt it."""
    handle = (state / LOCK).open("a+")
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: Room for many clients connecting at once (the default, 5, drops SYNs: 1 s retransmits).
    request_queue_size = 128
    gateway: Gateway


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every method goes to the gateway."""

    protocol_version = "HTTP/1.1"
    #: Headers and body leave in separate writes; Nagle + delayed ACK would add 40 ms to each.
    disable_nagle_algorithm = True
    server: _Server

    def _answer(self) -> None:
        started = time.perf_counter()
        gateway = self.server.gateway
        body, too_large = self._read_body()
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            local_port=self.server.server_port,
        )
        try:
            response = gateway.error(TOO_LARGE, "-", None) if too_large else gateway.handle(request)
        except Exception:  # a fault of the runtime itself: answered as API Gateway would
            traceback.print_exc()
            response = gateway.error(FAILED, "-", None)
        self._write(response)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"{self.command} {self.path} {response.status} {elapsed:.1f} ms", file=sys.stderr, flush=True)

    def _read_body(self) -> tuple[bytes, bool]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            # Read it all anyway, so the client gets its 413 instead of a broken pipe.
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 20))
                if not chunk:
                    break
                length -= len(chunk)
            return b"", True
        return self.rfile.read(length) if length else b"", False

    def _read_chunked(self) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return (b"", True) if total > MAX_REQUEST_BYTES else (b"".join(chunks), False)
            total += size
            chunk = self.rfile.read(size)
            if total <= MAX_REQUEST_BYTES:
                chunks.append(chunk)
            self.rfile.readline()

    def _write(self, response: HttpResponse) -> None:
        self.send_response_only(response.status)
        self.send_header("Date", self.date_time_string())
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines are printed by `_answer`, with the time taken."""

    # BaseHTTPRequestHandler dispatches on these names.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _answer  # noqa: N815


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
    # SIGTERM stops like Ctrl-C: the journal is already durable, this only makes the exit tidy. SIGINT
    # is set explicitly because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    print(server.banner(), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("serverless-crud: stopped", file=sys.stderr, flush=True)
