"""One Lambda execution environment:
`python -m serverless_local.services.lambda_.worker REQ RESP LIFE LOG FUNCTION`.

Started by the local Lambda service with the function's own environment (its variables, Lambda's,
and AWS_ENDPOINT_URL pointing at the local AWS). As Lambda's Python runtime does, it configures the
root logger (a handler writing each record whole to the function's log, formatted as Lambda's Text
or JSON format, at AWS_LAMBDA_LOG_LEVEL), makes stdout and stderr unbuffered, imports the handler
from the function's code (its init; `dir/module.fn` and `pkg.module.fn` alike), then runs one event
at a time. Events arrive on file descriptor REQ, answers leave on RESP, each a frame: 4-byte length,
1-byte kind, payload. Log records and Lambda's own lines (START, END, REPORT) leave on LOG, one frame
each; what the function prints goes to stdout and stderr, which the server reads line by line. LIFE is
a pipe only the server holds open: when it reads end-of-file the server is gone (however it ended)
and so is this process.

Only the standard library is imported here: the function's import time is its own.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import math
import os
import resource
import signal
import struct
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any, BinaryIO

#: Frame kinds, worker -> server.
READY, INIT_ERROR, RESULT, ERROR = b"I", b"X", b"R", b"E"
#: Frame kind, server -> worker.
INVOKE = b"V"
#: Frame kinds on LOG (worker -> server): a log record's text (console and log), one of Lambda's
#: own lines (START, END, REPORT: the log only).
LOG, PLATFORM, REPORT = b"L", b"P", b"R"
LOG_STREAM_DATE = "%Y/%m/%d"
_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
#: The levels of AWS_LAMBDA_LOG_LEVEL (Lambda's names; TRACE is below DEBUG, FATAL is CRITICAL).
_LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}
#: The request being handled, for the log records' request id.
_current_request = ""


def write_frame(stream: BinaryIO, kind: bytes, payload: bytes) -> None:
    """One frame: length of what follows (4 bytes, big-endian), the kind, the payload."""
    stream.write(struct.pack(">I", len(payload) + 1) + kind + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    """(kind, payload) of the next frame, or None at end of stream."""
    header = stream.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack(">I", header)
    body = stream.read(length)
    if len(body) < length:
        return None
    return body[:1], body[1:]


class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, function_name: str, memory_mb: int, request_id: str, deadline_ms: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME") or f"/aws/lambda/{function_name}"
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME") or (
            f"{time.strftime(LOG_STREAM_DATE)}/[$LATEST]{uuid.uuid4().hex}"
        )
        self.identity = None
        self.client_context = None
        #: A function with TenancyConfig is invoked for a tenant (not emulated: None).
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_record(
    error: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """An unhandled error as Lambda reports it: its stack from the function's own code down (the
    runtime's frames left out, as Lambda's runtime leaves out its own)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(error) if message is None else message,
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_list(frames),
    }


# -- logging, as Lambda's Python runtime sets it up --------------------------------------------------
class _LogSink:
    """Writes whole records to the server's log pipe (a frame each: a traceback stays one event)."""

    def __init__(self, descriptor: int) -> None:
        self._stream = os.fdopen(descriptor, "wb", buffering=0)
        self._lock = threading.Lock()

    def write(self, text: str, kind: bytes = LOG) -> None:
        payload = text.rstrip("\n").encode("utf-8", "replace")
        with self._lock:
            write_frame(self._stream, kind, payload)


class _RecordHandler(logging.Handler):
    """The root logger's handler: each record, formatted, to the function's log."""

    def __init__(self, sink: _LogSink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write(self.format(record))
        except Exception:  # as logging's own handlers do: a record that fails is reported, not raised
            self.handleError(record)


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request
        return True


class _JsonFormatter(logging.Formatter):
    """Lambda's JSON log format for the root logger's records."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.replace("WARNING", "WARN").replace("CRITICAL", "FATAL"),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", ""),
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry.update(
                errorType=type(error).__name__,
                errorMessage=str(error),
                stackTrace=traceback.format_exception(error),
            )
        return json.dumps(entry, default=str)


def configure_logging(sink: _LogSink, log_format: str, level: str | None) -> None:
    """The root logger as Lambda's runtime leaves it: one handler to the function's log, its level
    from AWS_LAMBDA_LOG_LEVEL (the JSON format's ApplicationLogLevel), WARNING otherwise."""
    logging.Formatter.converter = time.gmtime
    handler = _RecordHandler(sink)
    if log_format == "JSON":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    if level and level.upper() in _LEVELS:
        root.setLevel(_LEVELS[level.upper()])
    root.addHandler(handler)


def _unbuffered(descriptor: int) -> io.TextIOWrapper:
    """A text stream on `descriptor` that writes through at once (Lambda's runtime does the same)."""
    return io.TextIOWrapper(
        os.fdopen(descriptor, "wb", buffering=0, closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        write_through=True,
    )


class _Platform:
    """Lambda's own lines in the function's log: START, END, REPORT (Text or JSON format)."""

    def __init__(self, sink: _LogSink, json_format: bool, init_ms: float) -> None:
        self.sink = sink
        self.json = json_format
        self.init_ms: float | None = init_ms

    def start(self, request_id: str) -> None:
        if self.json:
            self._event("platform.start", {"requestId": request_id, "version": "$LATEST"})
        else:
            self.sink.write(f"START RequestId: {request_id} Version: $LATEST", PLATFORM)

    def end(self, request_id: str, duration_ms: float, memory_mb: int) -> None:
        used = math.ceil(peak_memory_kb() / 1024)
        init, self.init_ms = self.init_ms, None
        if self.json:
            metrics: dict[str, Any] = {
                "durationMs": round(duration_ms, 2),
                "billedDurationMs": math.ceil(duration_ms),
                "memorySizeMB": memory_mb,
                "maxMemoryUsedMB": used,
            }
            if init is not None:
                metrics["initDurationMs"] = round(init, 2)
            report = {"requestId": request_id, "metrics": metrics, "status": "success"}
            self._event("platform.report", report, REPORT)
            return
        self.sink.write(f"END RequestId: {request_id}", PLATFORM)
        self.sink.write(report_line(request_id, duration_ms, memory_mb, used, init), REPORT)

    def _event(self, kind: str, record: dict[str, Any], frame: bytes = PLATFORM) -> None:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        self.sink.write(json.dumps({"time": stamp, "type": kind, "record": record}), frame)


def report_line(
    request_id: str, duration_ms: float, memory_mb: int, used_mb: int, init_ms: float | None = None
) -> str:
    """Lambda's REPORT line of one event (`used_mb`: the environment's peak memory since it started)."""
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: "
        f"{math.ceil(duration_ms)} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {used_mb} MB\t"
    )
    return line + (f"Init Duration: {init_ms:.2f} ms\t" if init_ms is not None else "")


def peak_memory_kb() -> int:
    """This process's peak resident memory in KiB: Linux's VmHWM, its own address space's. Not
    getrusage's ru_maxrss, which a process started by vfork and exec inherits from the server that
    started it (a worker spawned while the server held 280 MB would report 280 MB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- the handler ----------------------------------------------------------------------------------
def _load(handler: str) -> Callable[..., Any]:
    """The handler function, found as Lambda's Python runtime finds it (`dir/module` is `dir.module`)."""
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    found = getattr(module, function_name, None)
    if not callable(found):
        raise AttributeError(f"Handler '{function_name}' missing on module '{module_name}'")
    return found  # type: ignore[no-any-return]


def _init_error(handler: str, error: BaseException) -> dict[str, Any]:
    module_name = handler.rpartition(".")[0]
    if isinstance(error, SyntaxError):
        return error_record(
            error, "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}"
        )
    if isinstance(error, ImportError):
        return error_record(
            error, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        )
    if isinstance(error, AttributeError):
        return error_record(error, "Runtime.HandlerNotFound", str(error))
    return error_record(error)


#: The first botocore that reads AWS_ENDPOINT_URL (older ones, pinned in a function's requirements,
#: would reach AWS itself).
_ENDPOINT_AWARE_BOTOCORE = (1, 31, 0)


def _endpoint_for_old_sdks() -> None:
    """Make a botocore older than 1.31 (a function's pinned requirements) use AWS_ENDPOINT_URL too."""
    from importlib import metadata

    try:
        version = tuple(int(part) for part in metadata.version("botocore").split(".")[:3])
    except (metadata.PackageNotFoundError, ValueError):
        return
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if version >= _ENDPOINT_AWARE_BOTOCORE or not endpoint:
        return
    from botocore import session

    create_client = session.Session.create_client

    def with_endpoint(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("endpoint_url") is None and len(args) < 5:  # (the 5th positional is endpoint_url)
            kwargs["endpoint_url"] = endpoint
        return create_client(self, service_name, *args, **kwargs)

    session.Session.create_client = with_endpoint  # type: ignore[method-assign]


def _end_with_the_server(lifeline: int) -> None:
    """Block on the lifeline; its end-of-file means the server has exited: exit now, mid-event or not."""
    while os.read(lifeline, 1):
        pass
    os._exit(1)


def _report_error(sink: _LogSink, record: dict[str, Any], json_format: bool, request_id: str = "") -> None:
    """An unhandled error in the function's log, as Lambda's runtime writes it."""
    if json_format:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        entry = {"timestamp": stamp, "level": "ERROR", "message": record, "requestId": request_id}
        sink.write(json.dumps(entry))
        return
    lines = [f"[ERROR] {record['errorType']}: {record['errorMessage']}"]
    if record.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(line for element in record["stackTrace"] for line in element.splitlines())
    sink.write("\n".join(lines))


def main(argv: list[str]) -> int:
    """Init, then answer events until the server closes the pipe."""
    global _current_request
    began = time.perf_counter()
    # Ctrl-C in the server's terminal reaches its whole process group: the server ends its
    # environments itself (a function never sees the developer's Ctrl-C, as on Lambda).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = os.fdopen(int(argv[1]), "rb")
    answers = os.fdopen(int(argv[2]), "wb")
    threading.Thread(target=_end_with_the_server, args=(int(argv[3]),), daemon=True).start()
    sink = _LogSink(int(argv[4]))
    function = json.loads(argv[5])
    sys.stdout, sys.stderr = _unbuffered(1), _unbuffered(2)
    json_format = os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON"
    configure_logging(sink, "JSON" if json_format else "Text", os.environ.get("AWS_LAMBDA_LOG_LEVEL"))
    code = function["code_uri"]
    sys.path[:0] = [code, *function.get("paths", [])]
    os.chdir(code)
    _endpoint_for_old_sdks()
    try:
        handler = _load(function["handler"])
    except BaseException as error:  # every init failure is reported, as Lambda's runtime does
        record = _init_error(function["handler"], error)
        _report_error(sink, record, json_format)
        write_frame(answers, INIT_ERROR, json.dumps(record).encode())
        return 1
    platform = _Platform(sink, json_format, (time.perf_counter() - began) * 1000)
    write_frame(answers, READY, b"")
    while (frame := read_frame(requests)) is not None:
        request = json.loads(frame[1])
        _current_request = request["id"]
        context = LambdaContext(
            function["name"], function["memory_mb"], request["id"], request["deadline_ms"]
        )
        platform.start(request["id"])
        started = time.perf_counter()
        kind, payload = _run(handler, request, context, sink, json_format)
        platform.end(request["id"], (time.perf_counter() - started) * 1000, function["memory_mb"])
        _current_request = ""
        write_frame(answers, kind, payload)
    return 0


def _run(
    handler: Callable[..., Any],
    request: dict[str, Any],
    context: LambdaContext,
    sink: _LogSink,
    json_format: bool,
) -> tuple[bytes, bytes]:
    """The frame answering one event: its result, or its error as Lambda reports it."""
    try:
        result = handler(request["event"], context)
    except Exception as error:
        record = {**error_record(error), "requestId": request["id"]}
        _report_error(sink, record, json_format, request["id"])
        return ERROR, json.dumps(record).encode()
    try:
        return RESULT, json.dumps(result).encode()
    except (TypeError, ValueError) as error:
        record = error_record(error, "Runtime.MarshalError", f"Unable to marshal response: {error}")
        _report_error(sink, record, json_format, request["id"])
        return ERROR, json.dumps(record).encode()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
