"""Lambda: each function in execution environments of its own, `invoke(function, event, deadline)`.

An instance is a worker process (`serverless_local.lambda_worker`) with the function's own
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

from serverless_local import lambda_worker
from serverless_local.embedded_aws import ACCOUNT_ID, REGION
from serverless_local.invocation import (
    DeadlineExceeded,
    FunctionError,
    PayloadTooLarge,
    Result,
    Success,
    Timeout,
)
from serverless_local.journal import write_private
from serverless_local.services.base import Service, ServiceContext
from serverless_local.stack import FUNCTION_TYPE, FunctionSpec, read_functions

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

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], generation: int) -> None:
        self.spec = spec
        self.generation = generation
        request_read, self._requests = os.pipe()
        self._answers, answer_write = os.pipe()
        # Held open by this process only: the environment ends when the server does, even kill -9'd.
        lifeline_read, self._lifeline = os.pipe()
        described = {
            "name": spec.name,
            "handler": spec.handler,
            "code_uri": str(spec.code_uri),
            "memory_mb": spec.memory_mb,
        }
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [
                sys.executable,
                "-m",
                "serverless_local.lambda_worker",
                str(request_read),
                str(answer_write),
                str(lifeline_read),
                json.dumps(described),
            ],
            env=environment,
            stdin=subprocess.DEVNULL,
            pass_fds=(request_read, answer_write, lifeline_read),
            cwd=spec.code_uri,
        )
        os.close(request_read)
        os.close(answer_write)
        os.close(lifeline_read)
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

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], concurrency: int) -> None:
        self.spec = spec
        self.environment = environment
        self.concurrency = max(1, concurrency)
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
        instance = Instance(self.spec, self.environment, self.generation)
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
            print(
                f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {request_id} "
                f"Task timed out after {self.spec.timeout:.2f} seconds",
                file=sys.stderr,
                flush=True,
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
        instance = Instance(self.spec, self.environment, self.generation)
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
    resource_types: ClassVar[frozenset[str]] = frozenset({FUNCTION_TYPE})

    uses_moto: ClassVar[bool] = False
    signing_name: ClassVar[str] = "lambda"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.functions = read_functions(context.template)
        self.pools: dict[str, FunctionPool] = {}
        self._names: dict[str, str] = {}
        for spec in self.functions.values():
            self._names[spec.logical_id] = self._names[spec.name] = spec.logical_id

    def start(self) -> None:
        """Prepare each function's environment; start a warm instance of each in the background."""
        local_values = LocalValues(self.context.options.state_dir / LOCAL_VALUES)
        for spec in self.functions.values():
            environment = self.environment(spec, local_values.for_function(spec))
            self.pools[spec.logical_id] = FunctionPool(spec, environment, self.context.options.concurrency)
        self.context.notes.extend(local_values.notes)
        # The gateway's functions warm now, beside moto's import; the others (a Step Functions task's)
        # once the server has answered, so that their init does not compete with the first answer.
        served = {event.owner for event in self.context.template.events(["Api"])}
        for logical_id, pool in self.pools.items():
            if logical_id in served:
                pool.warm()
            else:
                self.context.background.later.append(pool.warm)
        # Asked for now, before Step Functions asks in its attach: its tasks invoke the functions.
        self.warm("the functions are being registered at the AWS endpoint", self._register_in_moto)

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
        service = self

        def invoke(
            backend: Any, name: str, qualifier: str | None, body: Any, headers: Any, answer: Any
        ) -> bytes:
            return service._moto_invoke(name, body, answer)

        self.context.aws.replace(LambdaSimpleBackend, "invoke", invoke)

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

    def stop(self) -> None:
        """End every execution environment."""
        for pool in self.pools.values():
            pool.stop()

    def report(self) -> str:
        """The functions and how many instances each may have."""
        names = ", ".join(sorted(self.functions))
        count = self.context.options.concurrency
        return f"{names or 'no functions'} (up to {count} warm instance{'s' if count > 1 else ''} each)"

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

    def recycle(self) -> None:
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
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
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
