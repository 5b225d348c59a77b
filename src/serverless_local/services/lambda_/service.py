"""Lambda: each function in execution environments of its own, `invoke(function, event, deadline)`.

An instance is a worker process (`serverless_local.services.lambda_.worker`) with the function's own
environment and modules: its variables never leak into another function's, and two functions may
both have a module named `app`. Its SDK clients reach the local AWS through AWS_ENDPOINT_URL, so
every write passes the services' journal hooks in this process. A function has up to
`--concurrency` warm instances, each running one event at a time (Lambda's model), more events
queue. Past its Timeout an instance is ended, as Lambda ends it, and the next event gets a fresh one.

The outcomes are Lambda's own (`Success`, `FunctionError`, `Timeout`): this layer knows nothing of
API Gateway. A caller that stops waiting first (`DeadlineExceeded`) leaves the function running to
its own Timeout, as on AWS.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any, ClassVar

from serverless_local.coverage import wrapped
from serverless_local.embedded_aws import ACCOUNT_ID, REGION
from serverless_local.journal import write_private
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.lambda_ import code as function_code
from serverless_local.services.lambda_ import worker as lambda_worker
from serverless_local.services.lambda_.asynchronous import AsyncInvocations, InvokeConfig
from serverless_local.services.lambda_.event_sources import (
    EVENT_SOURCES,
    POLLERS,
    EventSource,
    EventTarget,
    Mappings,
    PollerContext,
    Positions,
    Runtime,
)
from serverless_local.services.lambda_.function_logs import LogCollector
from serverless_local.services.lambda_.invocation import (
    DeadlineExceeded,
    FunctionError,
    PayloadTooLarge,
    Result,
    Success,
    Timeout,
)
from serverless_local.stack import (
    FUNCTION_TYPE,
    LAYER_TYPES,
    FunctionSpec,
    LocalTemplate,
    read_apis,
    read_functions,
    read_layers,
)
from serverless_local.targets import Delivery, TargetError

#: Lambda's synchronous payload limit (request and response).
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: Lambda's limit on a function's init phase.
INIT_TIMEOUT_SECONDS = 10.0
LOCAL_VALUES = "local-values.json"
_LAMBDA_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
#: The code moto keeps for each function (the real code runs from its CodeUri).
_EMPTY_ZIP = bytes.fromhex("504b0506" + "00" * 18)
#: The properties of SAM's EventInvokeConfig that are Lambda's PutFunctionEventInvokeConfig parameters.
_INVOKE_CONFIG = ("MaximumEventAgeInSeconds", "MaximumRetryAttempts", "DestinationConfig")
#: Variables of the server's environment an execution environment keeps (the interpreter's needs).
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONDONTWRITEBYTECODE", "TMPDIR", "SYSTEMROOT")


def _function_arn(name: str) -> str:
    from serverless_local.embedded_aws import ACCOUNT_ID, REGION

    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


class UnknownFunction(LookupError):
    """No function of the template has this name, logical id or ARN."""


class LocalValues:
    """Stand-ins for values only AWS can provide (e.g. a secret), generated once, kept in the state dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        if self.values:
            path.chmod(0o600)  # written 0600; an older version left it wider
        self.notes: list[str] = []

    def for_function(self, spec: FunctionSpec) -> dict[str, str]:
        """A local value for each variable of `spec` the template cannot resolve here."""
        values = {}
        for name, reason in spec.unresolved.items():
            key = f"{spec.logical_id}.{name}"
            if key not in self.values:
                self.values[key] = secrets.token_hex(32)
                write_private(self.path, json.dumps(self.values, indent=1).encode())
            values[name] = self.values[key]
            self.notes.append(
                f"{spec.logical_id} {name}: a random local value kept in {self.path} ({reason})"
            )
        return values


class Instance:
    """One execution environment: a worker process running one event at a time."""

    def __init__(self, pool: FunctionPool) -> None:
        spec = pool.spec
        self.spec = spec
        self.generation = pool.generation
        request_read, self._requests = os.pipe()
        self._answers, answer_write = os.pipe()
        # Held open by this process only: the environment ends when the server does, even kill -9'd.
        lifeline_read, self._lifeline = os.pipe()
        output_read, output_write = os.pipe()
        records_read, records_write = os.pipe()
        #: Lambda's log stream of this environment (one per execution environment).
        self.stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        described = {
            "name": spec.name,
            "handler": spec.handler,
            "code_uri": str(spec.code_uri),
            "memory_mb": spec.memory_mb,
            "paths": [str(path) for path in pool.paths],
        }
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [
                sys.executable,
                "-m",
                "serverless_local.services.lambda_.worker",
                str(request_read),
                str(answer_write),
                str(lifeline_read),
                str(records_write),
                json.dumps(described),
            ],
            env={**pool.environment, "AWS_LAMBDA_LOG_STREAM_NAME": self.stream},
            stdin=subprocess.DEVNULL,
            stdout=output_write,
            stderr=output_write,
            pass_fds=(request_read, answer_write, lifeline_read, records_write),
            cwd=spec.code_uri,
        )
        for descriptor in (request_read, answer_write, lifeline_read, output_write, records_write):
            os.close(descriptor)
        pool.collector.add(spec.logical_id, spec.log_group, self.stream, output_read, records_read)
        self._writer: IO[bytes] = os.fdopen(self._requests, "wb", buffering=0)
        self._buffer = bytearray()
        self.init_error: FunctionError | None = None

    def wait_ready(self) -> bool:
        """Wait for the init to finish; False (with `init_error`) if it failed."""
        frame = self._read(time.monotonic() + INIT_TIMEOUT_SECONDS)
        if frame is not None and frame[0] == lambda_worker.READY:
            return True
        if frame is not None and frame[0] == lambda_worker.INIT_ERROR:
            record = json.loads(frame[1])
            self.init_error = FunctionError(record["errorType"], record["errorMessage"], record["stackTrace"])
        else:
            self.init_error = FunctionError(
                "Runtime.ExitError", f"Runtime exited before its init finished (status {self.process.poll()})"
            )
        self.end()
        return False

    def send(self, request_id: str, event: bytes, deadline_ms: int) -> bool:
        """Hand the instance one event (its JSON); False if it has exited."""
        payload = b'{"id":"%s","deadline_ms":%d,"event":%s}' % (request_id.encode(), deadline_ms, event)
        try:
            lambda_worker.write_frame(self._writer, lambda_worker.INVOKE, payload)  # type: ignore[arg-type]
        except OSError:
            return False
        return True

    def receive(self, until: float) -> Result | None:
        """The outcome of the event sent, or None if `until` (monotonic) passed first."""
        frame = self._read(until)
        if frame is None:
            if self.process.poll() is None:
                return None
            return FunctionError(
                "Runtime.ExitError", f"Error: Runtime exited with error: exit status {self.process.poll()}"
            )
        kind, payload = frame
        if kind == lambda_worker.RESULT:
            if len(payload) > MAX_PAYLOAD_BYTES:
                return FunctionError(
                    "Function.ResponseSizeTooLarge",
                    "Response payload size exceeded maximum allowed payload size "
                    f"({MAX_PAYLOAD_BYTES} bytes).",
                )
            return Success(json.loads(payload))
        record = json.loads(payload)
        return FunctionError(record["errorType"], record["errorMessage"], record.get("stackTrace") or [])

    def _read(self, until: float) -> tuple[bytes, bytes] | None:
        """The next frame, or None if `until` passed first or the process exited.

        A frame read in part is kept: whoever waits next (the caller, or the thread finishing an
        invocation its caller gave up on) goes on from where the last one stopped.
        """
        buffer = self._buffer
        while True:
            if len(buffer) >= 4:
                needed = 4 + int.from_bytes(buffer[:4], "big")
                if len(buffer) >= needed:
                    frame = bytes(buffer[:needed])
                    del buffer[:needed]
                    return frame[4:5], frame[5:]
            left = until - time.monotonic()
            if left <= 0:
                return None
            if not select.select([self._answers], [], [], left)[0]:
                continue
            data = os.read(self._answers, 1 << 20)
            if not data:
                self.process.wait()
                return None
            buffer += data

    def end(self) -> None:
        """End the environment now (a timeout, a reload, the server stopping)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        with contextlib.suppress(OSError):
            self._writer.close()
        for descriptor in (self._answers, self._lifeline):
            with contextlib.suppress(OSError):
                os.close(descriptor)


class _Waiter:
    """An event waiting for an instance: handed one, or a free slot to start one in."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.instance: Instance | None = None
        self.error: FunctionError | None = None


class FunctionPool:
    """The warm instances of one function; `invoke` takes an idle one or starts one, up to a cap.

    Events wait their turn in order: a released instance is handed to the event that has waited
    longest, which alone wakes (no waiter races another, however many are queued).
    """

    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        concurrency: int,
        collector: LogCollector,
        paths: list[Path] | None = None,
    ) -> None:
        self.spec = spec
        self.environment = environment
        self.concurrency = max(1, concurrency)
        self.collector = collector
        #: The function's import path beyond its code: installed requirements, layers.
        self.paths = paths or []
        self.generation = 0
        self._idle: list[Instance] = []
        self._count = 0
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._stopped = False

    def warm(self) -> None:
        """Start one instance in the background, so the first event finds it initialised."""
        with self._lock:
            if self._count or self._stopped:
                return
            self._count += 1
        threading.Thread(target=self._start_one, name=f"warm-{self.spec.logical_id}", daemon=True).start()

    def _start_one(self) -> None:
        instance = Instance(self)
        if not instance.wait_ready():
            self._discard()
            return
        self._release(instance)

    def invoke(self, event: Any, deadline: float) -> Result:
        """Run one event; `deadline` (monotonic) is when the caller stops waiting."""
        encoded = json.dumps(event).encode()
        if len(encoded) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"the event is {len(encoded)} bytes, over Lambda's {MAX_PAYLOAD_BYTES}")
        instance = self._acquire(deadline)
        if isinstance(instance, FunctionError):
            return instance
        request_id = str(uuid.uuid4())
        timeout_at = time.monotonic() + self.spec.timeout
        if not instance.send(request_id, encoded, int((time.time() + self.spec.timeout) * 1000)):
            instance.end()
            self._discard()
            return FunctionError(
                "Runtime.ExitError",
                f"Error: Runtime exited with error: exit status {instance.process.poll()}",
            )
        outcome = instance.receive(min(deadline, timeout_at))
        if outcome is None and deadline < timeout_at:
            # The caller gave up first; the function runs on until its own Timeout, as on AWS.
            threading.Thread(
                target=self._finish,
                args=(instance, request_id, timeout_at),
                name="lambda-finish",
                daemon=True,
            ).start()
            raise DeadlineExceeded
        return self._settle(instance, request_id, outcome)

    def _finish(self, instance: Instance, request_id: str, timeout_at: float) -> None:
        self._settle(instance, request_id, instance.receive(timeout_at))

    def _settle(self, instance: Instance, request_id: str, outcome: Result | None) -> Result:
        if outcome is None:
            instance.end()
            self.collector.line(
                self.spec.logical_id,
                self.spec.log_group,
                instance.stream,
                f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {request_id} "
                f"Task timed out after {self.spec.timeout:.2f} seconds",
            )
            self._discard()
            return Timeout(
                "Sandbox.Timedout",
                f"RequestId: {request_id} Error: Task timed out after {self.spec.timeout:.2f} seconds",
            )
        if instance.process.poll() is not None:
            instance.end()
            self._discard()
        else:
            self._release(instance)
        return outcome

    def _acquire(self, deadline: float) -> Instance | FunctionError:
        """An idle instance, a new one (under the cap), or the one handed over when this event's turn
        comes; DeadlineExceeded if the caller's deadline passes first."""
        waiter = None
        found = None
        stale: list[Instance] = []
        with self._lock:
            if self._stopped:
                return _STOPPING
            while self._idle and found is None:
                instance = self._idle.pop()
                if instance.generation == self.generation and instance.process.poll() is None:
                    found = instance
                else:
                    stale.append(instance)
                    self._count -= 1
            if found is None:
                if self._count < self.concurrency and not self._waiters:
                    self._count += 1
                else:
                    waiter = _Waiter()
                    self._waiters.append(waiter)
        for instance in stale:
            instance.end()
        if found is not None:
            return found
        if waiter is not None:
            if not waiter.ready.wait(max(0.0, deadline - time.monotonic())):
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                        raise DeadlineExceeded
                # Its turn came as the deadline passed: it is served after all.
            if waiter.error is not None:
                return waiter.error
            if waiter.instance is not None:
                return waiter.instance
        instance = Instance(self)
        if instance.wait_ready():
            return instance
        self._discard()
        assert instance.init_error is not None
        return instance.init_error

    def _release(self, instance: Instance) -> None:
        """An instance is free again: to the longest waiting event, or idle (ended if it is stale)."""
        with self._lock:
            current = instance.generation == self.generation and not self._stopped
            if current and self._waiters:
                waiter = self._waiters.popleft()
                waiter.instance = instance
                waiter.ready.set()
                return
            if current:
                self._idle.append(instance)
                return
            self._count -= 1
            self._slot_freed()
        instance.end()

    def _discard(self) -> None:
        """An instance is gone: its place goes to the longest waiting event, which starts one."""
        with self._lock:
            self._count -= 1
            self._slot_freed()

    def _slot_freed(self) -> None:
        """(Under the lock) let the longest waiting event start an instance in the free place."""
        if self._waiters and self._count < self.concurrency and not self._stopped:
            self._count += 1
            self._waiters.popleft().ready.set()

    def recycle(self) -> None:
        """New instances from now on (the code changed): idle ones end now, busy ones when done."""
        with self._lock:
            self.generation += 1
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            for _ in idle:
                self._slot_freed()
        for instance in idle:
            instance.end()
        self.warm()

    def stop(self) -> None:
        """End every idle instance and answer every waiting event; busy ones end as they finish."""
        with self._lock:
            self._stopped = True
            idle, self._idle = self._idle, []
            waiters, self._waiters = list(self._waiters), collections.deque()
        for waiter in waiters:
            waiter.error = _STOPPING
            waiter.ready.set()
        for instance in idle:
            instance.end()


_STOPPING = FunctionError("ServiceException", "the local runtime is stopping")


class LambdaService(Service):
    """The template's functions, each in execution environments of its own."""

    title: ClassVar[str] = "Lambda"
    resource_types: ClassVar[frozenset[str]] = frozenset({FUNCTION_TYPE, *LAYER_TYPES})
    #: Every event type an event source runs (their functions' or state machines').
    event_types: ClassVar[frozenset[str]] = frozenset(
        kind for source in EVENT_SOURCES for kind in source.event_types
    )
    #: Its asynchronous invocations and event source mappings' positions are journaled here.
    namespace: ClassVar[str | None] = "lambda"

    uses_moto: ClassVar[bool] = False
    #: The local values of what only AWS could give (kept across restarts).
    state_files: ClassVar[tuple[str, ...]] = (LOCAL_VALUES,)

    @classmethod
    def check(cls, template: LocalTemplate) -> None:
        """A function the runtime could never run (a handler, a CodeUri) stops the start."""
        read_functions(template, [])

    signing_name: ClassVar[str] = "lambda"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        not_run: list[str] = []
        self.functions = read_functions(context.template, not_run)
        context.not_emulated.extend(not_run)
        self.layers = read_layers(context.template)
        self.pools: dict[str, FunctionPool] = {}
        #: Every environment's output: to the console and to its log stream.
        self.collector = LogCollector()
        self.mappings: Mappings | None = None
        self.event_sources: list[EventSource] = []
        self.runtime: Runtime | None = None
        #: Where each event source mapping is in its stream, and the mappings made at the endpoint.
        self.positions = Positions(context.store("lambda/event-source-mappings"))
        self.asynchronous = AsyncInvocations(
            context.store("lambda/async"),
            self._run_queued,
            self._invoke_config,
            context.targets,
            context.options.concurrency,
            context.options.async_retry_delay,
            self._log,
        )
        self._names: dict[str, str] = {}
        for spec in self.functions.values():
            self._names[spec.logical_id] = self._names[spec.name] = spec.logical_id

    def start(self) -> None:
        """Prepare each function's environment; start a warm instance of each in the background."""
        local_values = LocalValues(self.context.options.state_dir / LOCAL_VALUES)
        for spec in self.functions.values():
            environment = self.environment(spec, local_values.for_function(spec))
            code = function_code.prepare(spec, self.layers)
            self.context.notes.extend(code.notes)
            self.pools[spec.logical_id] = FunctionPool(
                spec, environment, self.context.options.concurrency, self.collector, code.paths
            )
        self.context.notes.extend(local_values.notes)
        self.context.targets.register("lambda", self._receive_delivery)
        # The gateway's functions warm now, beside moto's import; the others (a Step Functions task's,
        # an event source's) once the server has answered, so that their init does not compete with
        # the first answer.
        template = self.context.template
        served = {route.function for route in read_apis(template)[1]}
        served.update(event.owner for event in template.events(["HttpApi"]))
        for logical_id, pool in self.pools.items():
            if logical_id in served:
                pool.warm()
            else:
                self.context.background.later.append(pool.warm)
        self.context.notes.extend(f"Lambda (event source mappings): {note}" for note in self.positions.load())
        if not self._mappings_at_start():
            # Nothing needs them in moto before the server answers: registered after it, before the
            # Step Functions machines whose tasks invoke them; the endpoint's Lambda waits until then.
            self.warm("the functions are being registered at the AWS endpoint", self._register_later)

    def _mappings_at_start(self) -> bool:
        """Whether moto's Lambda must hold the functions as the services connect: event source
        mappings are made on them (the template's, or the endpoint's), or an asynchronous invocation
        reads a function's EventInvokeConfig there."""
        makers = {kind for source in EVENT_SOURCES if source.makes_mappings for kind in source.event_types}
        return (
            bool(self.positions.made)
            or any(spec.event_invoke_config for spec in self.functions.values())
            or any(event.type in makers for event in self.context.template.events())
        )

    def attach(self) -> None:
        """The functions in moto's Lambda now when event source mappings are made on them as the
        services connect (otherwise in the background, see `start`)."""
        if self._mappings_at_start():
            self._register_in_moto()

    def _register_in_moto(self) -> None:
        """The functions in moto's Lambda too, its Invoke answered here: `aws lambda invoke` at the
        endpoint (and a Step Functions task) runs the template's own function."""
        from moto.awslambda_simple.models import LambdaSimpleBackend

        trust = {"Version": "2012-10-17", "Statement": [_LAMBDA_TRUST]}
        role = self.context.aws.client("iam").create_role(
            RoleName="serverless-local-functions", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        client = self.context.aws.client("lambda")
        for spec in self.functions.values():
            self._register(client, role, spec)
            self._register_invoke_config(spec)
        if self.context.log_writer is not None:
            self.collector.attach(self.context.log_writer)
        service = self

        def invoke(
            backend: Any, name: str, qualifier: str | None, body: Any, headers: Any, answer: Any
        ) -> bytes:
            kind = next(
                (v for k, v in dict(headers or {}).items() if k.lower() == "x-amz-invocation-type"), ""
            )
            if kind == "Event":
                return service._moto_invoke_async(name, body)
            if kind == "DryRun":
                service.resolve(name)
                return b""
            return service._moto_invoke(name, body, answer)

        self.context.aws.replace(LambdaSimpleBackend, "invoke", invoke)
        self._describe_logging()

    def _describe_logging(self) -> None:
        """moto keeps no LoggingConfig: the endpoint's GetFunction says where each function logs."""
        from moto.awslambda.models import LambdaFunction

        service = self

        def get_configuration(function: Any, *args: Any, **kwargs: Any) -> Any:
            configuration = original(function, *args, **kwargs)
            spec = service.functions.get(service._names.get(function.function_name, ""))
            if spec is not None:
                logging = spec.logging
                configuration["LoggingConfig"] = {
                    "LogFormat": logging.format if logging else "Text",
                    "LogGroup": spec.log_group,
                    **(
                        {"ApplicationLogLevel": logging.application_level}
                        if logging and logging.application_level
                        else {}
                    ),
                    **({"SystemLogLevel": logging.system_level} if logging and logging.system_level else {}),
                }
            return configuration

        original = self.context.aws.replace(LambdaFunction, "get_configuration", get_configuration)

    def _register(self, client: Any, role: str, spec: FunctionSpec) -> None:
        from botocore.exceptions import ClientError

        try:
            client.create_function(
                FunctionName=spec.name,
                Runtime=spec.runtime or f"python{sys.version_info.major}.{sys.version_info.minor}",
                Architectures=[spec.architecture],
                Role=role,
                Handler=spec.handler,
                Code={"ZipFile": _EMPTY_ZIP},
                Timeout=max(1, int(spec.timeout)),
                MemorySize=spec.memory_mb,
                Environment={"Variables": dict(spec.environment)},
            )
        except ClientError as error:  # the gateway still serves it; only the endpoint's Lambda lacks it
            message = error.response["Error"]["Message"]
            self.context.notes.append(f"{spec.logical_id} is not invocable at the AWS endpoint: {message}")
            return
        if spec.alias is not None:  # SAM's AutoPublishAlias: version 1 and the alias to it
            from moto.awslambda.utils import get_backend

            backend = get_backend(ACCOUNT_ID, REGION)  # (not through botocore: start-up time)
            backend.publish_version(spec.name)
            backend.create_alias(
                name=spec.alias,
                function_name=spec.name,
                function_version="1",
                description="",
                routing_config=None,  # type: ignore[arg-type]
            )

    def _moto_invoke(self, function_name: str, body: Any, answer: dict[str, Any]) -> bytes:
        """moto's Lambda Invoke: the event to the template's function, Lambda's answer back."""
        text = body.decode() if isinstance(body, bytes) else body
        event = json.loads(text) if text else {}
        try:
            spec = self.resolve(function_name)
        except UnknownFunction:
            from moto.awslambda.exceptions import UnknownFunctionException

            arn = function_name if function_name.startswith("arn:") else _function_arn(function_name)
            raise UnknownFunctionException(arn) from None
        try:
            outcome = self.invoke(
                spec.logical_id, event, time.monotonic() + spec.timeout + INIT_TIMEOUT_SECONDS
            )
        except PayloadTooLarge as error:
            outcome = FunctionError("RequestEntityTooLargeException", str(error))
        if isinstance(outcome, Success):
            return json.dumps(outcome.payload).encode()
        answer["x-amz-function-error"] = "Unhandled"
        return json.dumps(outcome.payload()).encode()

    def connect(self) -> None:
        """Connect every event of the template to its function (or state machine), as AWS delivers it,
        and queue again the asynchronous events a restart interrupted (their targets exist now)."""
        restored, notes = self.asynchronous.restore()
        self.context.notes.extend(f"Lambda (asynchronous invocations): {note}" for note in notes)
        if restored:
            self.context.notes.append(f"{restored} asynchronous invocation(s) restored from the journal")
        pollers = PollerContext(
            self.context.aws, self, self.context.targets, self.positions, self._log_by_arn
        )
        self.mappings = Mappings(pollers, POLLERS)
        now = self._mappings_at_start()
        if now:
            self.mappings.install()
        self.runtime = Runtime(self.context, self, self.mappings)
        self.event_sources = [kind(self.runtime) for kind in EVENT_SOURCES]
        by_type = {kind: source for source in self.event_sources for kind in source.event_types}
        for event in self.context.template.events():
            source = by_type.get(event.type)
            target = self._event_target(event.owner)
            if source is not None and target is not None:
                source.connect(event, target)
        for source in self.event_sources:
            source.start()
        if now:
            self.mappings.restore()
            self.mappings.start()

    def _register_later(self) -> None:
        """The background's part when nothing needed the functions in moto at start: register them,
        then take over moto's event source mappings (those made at the endpoint from now on)."""
        self._register_in_moto()
        assert self.mappings is not None
        self.mappings.install()
        self.mappings.restore()
        self.mappings.start()

    def _event_target(self, logical_id: str) -> EventTarget | None:
        """Who receives the events of `logical_id`: one of the functions run here, or a state machine."""
        spec = self.functions.get(logical_id)
        if spec is not None:
            return EventTarget(logical_id, spec.arn, spec.name)
        resource = self.context.template.resources.get(logical_id)
        if resource is None or resource.type == FUNCTION_TYPE:
            return None  # a function not run locally (its events are listed as not emulated)
        arn = str(self.context.template.resolve({"Ref": logical_id}, logical_id))
        return EventTarget(logical_id, arn, arn.rsplit(":", 1)[-1])

    def timeout_of(self, function: str) -> float:
        """A function's Timeout, in seconds."""
        return self.resolve(function).timeout

    def _log_by_arn(self, function: str, message: str) -> None:
        try:
            logical_id = self.resolve(function).logical_id
        except UnknownFunction:
            print(f"serverless-local: {message}", file=sys.stderr, flush=True)
            return
        self._log(logical_id, message)

    def stop(self) -> None:
        """End every execution environment (what they wrote last is still logged)."""
        if self.mappings is not None:
            self.mappings.stop()
        for source in self.event_sources:
            source.stop()
        self.asynchronous.stop()
        for pool in self.pools.values():
            pool.stop()
        self.collector.stop()

    # -- asynchronous invocation ------------------------------------------------------------------------
    def invoke_async(self, function: str, event: Any) -> str:
        """Queue `event` for `function` (logical id, name or ARN), as `InvocationType: Event` does; its
        request id. The event is journaled before this returns."""
        return self.asynchronous.submit(self.resolve(function).logical_id, event)

    def _moto_invoke_async(self, function_name: str, body: Any) -> bytes:
        from moto.core.exceptions import JsonRESTError

        text = body.decode() if isinstance(body, bytes) else body
        try:
            self.invoke_async(function_name, json.loads(text) if text else {})
        except PayloadTooLarge as error:
            refusal = JsonRESTError("RequestTooLargeException", str(error))
            refusal.code = 413
            raise refusal from None
        return b""

    def _receive_delivery(self, arn: str, delivery: Delivery) -> None:
        """An event from another service (SNS, S3, EventBridge, a schedule, a destination)."""
        payload = delivery.payload
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                raise TargetError(f"{arn}: a Lambda event must be JSON") from None
        try:
            self.invoke_async(arn, payload)
        except (UnknownFunction, PayloadTooLarge) as error:
            raise TargetError(str(error)) from None

    def _run_queued(self, function: str, event: Any) -> Result:
        spec = self.functions[function]
        return self.invoke(function, event, time.monotonic() + spec.timeout + INIT_TIMEOUT_SECONDS)

    def _invoke_config(self, function: str) -> tuple[str, InvokeConfig]:
        """A function's EventInvokeConfig (as the endpoint has it) and its DeadLetterQueue."""
        spec = self.functions[function]
        config = InvokeConfig()
        found = self._event_invoke_configs().get(spec.name)
        if found is not None:
            config.max_retries = int(found.get("MaximumRetryAttempts", config.max_retries))
            config.max_age = float(found.get("MaximumEventAgeInSeconds", config.max_age))
            destinations = found.get("DestinationConfig") or {}
            config.on_success = (destinations.get("OnSuccess") or {}).get("Destination")
            config.on_failure = (destinations.get("OnFailure") or {}).get("Destination")
        target = spec.dead_letter_queue.get("TargetArn")
        if target is not None:
            config.dead_letter = str(
                self.context.template.resolve(target, f"{spec.logical_id}.DeadLetterQueue")
            )
        return spec.arn, config

    def _event_invoke_configs(self) -> dict[str, dict[str, Any]]:
        from moto.awslambda.utils import get_backend

        backend = get_backend(ACCOUNT_ID, REGION)
        configs = {}
        for function in list(backend._lambdas.all()):
            if function.event_invoke_config:
                configs[function.function_name] = function.event_invoke_config[-1].config
        return configs

    def _register_invoke_config(self, spec: FunctionSpec) -> None:
        """The template's EventInvokeConfig in moto's Lambda (where the endpoint can change it)."""
        declared = spec.event_invoke_config
        if not declared:
            return
        where = f"{spec.logical_id}.EventInvokeConfig"
        config = self.context.template.resolve(
            {k: v for k, v in declared.items() if k in _INVOKE_CONFIG}, where
        )
        destinations = config.get("DestinationConfig") or {}
        config["DestinationConfig"] = {
            kind: {"Destination": str(d["Destination"])}
            for kind, d in destinations.items()
            if isinstance(d, dict) and d.get("Destination")
        }
        self.context.aws.client("lambda").put_function_event_invoke_config(FunctionName=spec.name, **config)

    def _log(self, function: str, message: str) -> None:
        spec = self.functions[function]
        self.collector.line(function, spec.log_group, "serverless-local", message)

    def report(self) -> str:
        """The functions and how many instances each may have; then what triggers them (a line of its own)."""
        names = ", ".join(sorted(self.functions))
        count = self.context.options.concurrency
        line = f"{names or 'no functions'} (up to {count} warm instance{'s' if count > 1 else ''} each)"
        triggers = self.runtime.connected if self.runtime is not None else []
        return "\n".join([line, *wrapped(f"  {'Triggers':<12} ", triggers)]) if triggers else line

    def resolve(self, function: str) -> FunctionSpec:
        """A function by logical id, FunctionName or ARN (a qualifier such as :$LATEST is ignored)."""
        name = function
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else name
        logical_id = self._names.get(name)
        if logical_id is None:
            raise UnknownFunction(f"Function not found: {function}")
        return self.functions[logical_id]

    def invoke(self, function: str, event: Any, deadline: float) -> Result:
        """Run `event` through `function`, waiting until `deadline` (monotonic) at most."""
        return self.pools[self.resolve(function).logical_id].invoke(event, deadline)

    def sources(self) -> set[Path]:
        """Each function's code directory."""
        return {spec.code_uri for spec in self.functions.values()}

    def reload(self) -> None:
        """Fresh instances for every function (its code changed)."""
        for pool in self.pools.values():
            pool.recycle()

    def environment(self, spec: FunctionSpec, local_values: dict[str, str]) -> dict[str, str]:
        """The function's variables and what Lambda's runtime adds, its SDK pointed at the local AWS."""
        inherited = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        return {
            **inherited,
            **spec.environment,
            **local_values,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            **_log_format(spec),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCOUNT_ID": ACCOUNT_ID,
            # The execution role's credentials on AWS; the local AWS accepts any.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            # The one local AWS endpoint, for every service (the SDKs' standard variable).
            "AWS_ENDPOINT_URL": self.context.endpoint,
            # Nothing of the developer's own AWS configuration (profiles, real endpoints) applies.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "LAMBDA_TASK_ROOT": str(spec.code_uri),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            # What `sam local` sets: Powertools and the X-Ray SDK stay quiet without a daemon.
            "AWS_SAM_LOCAL": "true",
        }


def _log_format(spec: FunctionSpec) -> dict[str, str]:
    """What Lambda adds to the environment for the JSON log format (its levels)."""
    logging = spec.logging
    if logging is None or logging.format != "JSON":
        return {}
    return {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": logging.application_level or "INFO"}
