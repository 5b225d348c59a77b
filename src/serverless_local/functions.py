"""Lambda functions run in-process: one warm instance, one event at a time, Timeout enforced.

The handler runs on the instance's own thread; requests queue in front of it. In-process there can
be only one instance of a module (Powertools keeps the current event on the resolver), so the local
runtime behaves like a function with reserved concurrency 1 and a queue, not like N instances.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from serverless_local.stack import FunctionSpec

LOG_STREAM_DATE = "%Y/%m/%d"
#: The runtime itself (this package) is never re-imported by --reload.
_RUNTIME_PACKAGE = __name__.rsplit(".", 1)[0]
_KEPT_MODULES = frozenset({_RUNTIME_PACKAGE})


class FunctionTimedOut(BaseException):
    """Raised inside a handler that ran past its Timeout (BaseException: handlers catch Exception)."""


class Outcome(Enum):
    """How an invocation ended, as API Gateway learns it."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    INTEGRATION_TIMEOUT = "integration-timeout"


@dataclass
class Invocation:
    """One event on its way through the instance."""

    event: dict[str, Any]
    spec: FunctionSpec
    cancelled: bool = False
    #: Only import the handler (no event is run).
    warm_only: bool = False
    result: Any = None
    error: BaseException | None = None
    deadline: float = 0.0
    start_event: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, spec: FunctionSpec, request_id: str, deadline: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{spec.name}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{time.strftime(LOG_STREAM_DATE)}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Instance:
    """The warm execution environment: a thread that runs one event at a time from a queue."""

    def __init__(
        self,
        extra_environment: Callable[[FunctionSpec], dict[str, str]],
        busy_thread: Callable[[], int | None] = lambda: None,
    ) -> None:
        """`busy_thread` names a thread that must not be interrupted now (inside a DynamoDB write)."""
        self._extra_environment = extra_environment
        self._busy_thread = busy_thread
        self._queue: queue.Queue[Invocation | None] = queue.Queue()
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._current: Invocation | None = None
        self._pending: Invocation | None = None
        self._current_lock = threading.Lock()
        self._environment_of: str | None = None
        self._stale = False
        self._code_dirs: set[Path] = set()
        self._thread = threading.Thread(target=self._run, name="lambda-instance", daemon=True)
        self._thread.start()

    # -- the caller's side -------------------------------------------------------------------------
    def invoke(
        self, spec: FunctionSpec, event: dict[str, Any], integration_timeout: float
    ) -> tuple[Outcome, Any]:
        """Run `event` through the function, waiting at most `integration_timeout` seconds in all."""
        gateway_deadline = time.monotonic() + integration_timeout
        invocation = Invocation(event=event, spec=spec)
        self._queue.put(invocation)
        if not invocation.start_event.wait(max(0.0, gateway_deadline - time.monotonic())):
            self._cancel_queued(invocation)
            return Outcome.INTEGRATION_TIMEOUT, None
        wait = min(invocation.deadline, gateway_deadline) - time.monotonic()
        if invocation.done.wait(max(0.0, wait)):
            return self._outcome(invocation)
        if gateway_deadline <= invocation.deadline:
            # API Gateway gives up first; the function runs on until its own Timeout, as in AWS.
            remaining = invocation.deadline - time.monotonic()
            timer = threading.Timer(max(0.0, remaining), self._interrupt, args=(invocation,))
            timer.daemon = True
            timer.start()
            return Outcome.INTEGRATION_TIMEOUT, None
        self._interrupt(invocation)
        return Outcome.TIMEOUT, None

    def _outcome(self, invocation: Invocation) -> tuple[Outcome, Any]:
        if isinstance(invocation.error, FunctionTimedOut):
            return Outcome.TIMEOUT, None
        if invocation.error is not None:
            return Outcome.ERROR, invocation.error
        return Outcome.OK, invocation.result

    @staticmethod
    def _cancel_queued(invocation: Invocation) -> None:
        invocation.cancelled = True  # the instance skips it when it comes up

    def _interrupt(self, invocation: Invocation) -> None:
        """Raise FunctionTimedOut in the handler's thread if it is still running this invocation."""
        with self._current_lock:
            if self._current is invocation and self._busy_thread() == self._thread.ident:
                # Mid-request to the embedded DynamoDB: that write finishes and is journaled, then
                # `deliver_pending` raises the timeout as the request returns to the handler.
                self._pending = invocation
                return
            if self._current is invocation and not invocation.done.is_set() and self._thread.ident:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._thread.ident), ctypes.py_object(FunctionTimedOut)
                )

    def deliver_pending(self) -> None:
        """Raise a deferred timeout, when called on the instance's thread between DynamoDB requests."""
        if threading.get_ident() != self._thread.ident:
            return
        with self._current_lock:
            due = self._pending is not None and self._pending is self._current
            self._pending = None
        if due:
            raise FunctionTimedOut

    def warm(self, spec: FunctionSpec) -> None:
        """Import the function's handler now, before the first request (an init error shows then)."""
        self._queue.put(Invocation(event={}, spec=spec, warm_only=True))

    def mark_stale(self) -> None:
        """Re-import handlers before the next event (source files changed)."""
        self._stale = True

    def stop(self) -> None:
        """Let the instance thread finish after the current event."""
        self._queue.put(None)

    # -- the instance's side -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                invocation = self._queue.get()
                if invocation is None:
                    return
                if invocation.cancelled:
                    continue
                self._execute(invocation)
            except FunctionTimedOut:
                # A timeout delivered just after the handler returned: nothing left to stop.
                continue

    def _execute(self, invocation: Invocation) -> None:
        spec = invocation.spec
        try:
            handler = self._handler(spec)
        except BaseException as error:
            invocation.error = error
            invocation.deadline = time.monotonic()
            invocation.start_event.set()
            invocation.done.set()
            _print_error(spec, error)
            return
        if invocation.warm_only:
            return
        invocation.deadline = time.monotonic() + spec.timeout
        context = LambdaContext(spec, str(uuid.uuid4()), invocation.deadline)
        with self._current_lock:
            self._current = invocation
        invocation.start_event.set()
        try:
            invocation.result = handler(invocation.event, context)
        except BaseException as error:
            invocation.error = error
            if isinstance(error, FunctionTimedOut):
                print(f"Task timed out after {spec.timeout:.2f} seconds", file=sys.stderr, flush=True)
            else:
                _print_error(spec, error)
        finally:
            with self._current_lock:
                self._current = self._pending = None
                invocation.done.set()

    def _handler(self, spec: FunctionSpec) -> Callable[..., Any]:
        if self._stale:
            self._stale = False
            self._handlers.clear()
            purge_modules(sorted(self._code_dirs))
        if self._environment_of != spec.logical_id:
            os.environ.update(spec.environment)
            os.environ.update(self._extra_environment(spec))
            self._environment_of = spec.logical_id
        key = f"{spec.code_uri}:{spec.handler}"
        if key not in self._handlers:
            self._handlers[key] = load_handler(spec)
            self._code_dirs.add(spec.code_uri)
        return self._handlers[key]


def load_handler(spec: FunctionSpec) -> Callable[..., Any]:
    """Import `module.function` from the function's CodeUri."""
    module_name, _, function_name = spec.handler.rpartition(".")
    code = str(spec.code_uri)
    if code not in sys.path:
        sys.path.insert(0, code)
    module = importlib.import_module(module_name)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise ImportError(f"{spec.handler}: {module_name} has no callable {function_name}")
    return handler  # type: ignore[no-any-return]


def purge_modules(code_dirs: list[Path]) -> list[str]:
    """Forget modules loaded from the functions' code (not the runtime's own), so they re-import."""
    roots = [str(directory) + os.sep for directory in code_dirs]
    purged = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name in _KEPT_MODULES or name.startswith(f"{_RUNTIME_PACKAGE}."):
            continue
        if any(path.startswith(root) for root in roots):
            del sys.modules[name]
            purged.append(name)
    importlib.invalidate_caches()
    return purged


def _print_error(spec: FunctionSpec, error: BaseException) -> None:
    """Lambda logs an unhandled error as JSON with its type and message; so does the local console."""
    import json
    import traceback

    record = {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_exception(error)[1:],
        "function": spec.logical_id,
    }
    print(json.dumps(record), file=sys.stderr, flush=True)
