"""One Lambda execution environment: `python -m serverless_local.lambda_worker REQ RESP LIFE FUNCTION`.

Started by the local Lambda service with the function's own environment (its variables, Lambda's,
and AWS_ENDPOINT_URL pointing at the local AWS). It imports the handler from the function's CodeUri
(its init), then runs one event at a time, as a Lambda instance does. Events arrive on file
descriptor REQ, answers leave on RESP, each a frame: 4-byte length, 1-byte kind, JSON. The handler's
own output goes to the inherited stdout/stderr (the server's console). LIFE is a pipe only the server
holds open: when it reads end-of-file the server is gone (however it ended) and so is this process.

After each event it prints Lambda's REPORT line (duration, billed duration, memory size, and the
environment's peak memory, `Max Memory Used`, the kernel's high-water mark of this process's resident
memory), as Lambda writes it to the function's log.

Only the standard library is imported here: the function's import time is its own.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
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
LOG_STREAM_DATE = "%Y/%m/%d"


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
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME") or (
            f"{time.strftime(LOG_STREAM_DATE)}/[$LATEST]{uuid.uuid4().hex}"
        )
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's Timeout."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_record(
    error: BaseException, error_type: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """An unhandled error as Lambda reports it."""
    return {
        "errorMessage": str(error) if message is None else message,
        "errorType": error_type or type(error).__name__,
        "stackTrace": traceback.format_exception(error)[1:],
    }


def _load(handler: str) -> Callable[..., Any]:
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name)
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


def _end_with_the_server(lifeline: int) -> None:
    """Block on the lifeline; its end-of-file means the server has exited: exit now, mid-event or not."""
    while os.read(lifeline, 1):
        pass
    os._exit(1)


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


def report_line(request_id: str, started: float, memory_mb: int) -> str:
    """Lambda's REPORT line of one event (peak memory: the environment's, since it started)."""
    duration = (time.perf_counter() - started) * 1000
    peak_mb = math.ceil(peak_memory_kb() / 1024)
    return (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {math.ceil(duration)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {peak_mb} MB"
    )


def main(argv: list[str]) -> int:
    """Init, then answer events until the server closes the pipe."""
    requests = os.fdopen(int(argv[1]), "rb")
    answers = os.fdopen(int(argv[2]), "wb")
    threading.Thread(target=_end_with_the_server, args=(int(argv[3]),), daemon=True).start()
    function = json.loads(argv[4])
    code = function["code_uri"]
    sys.path.insert(0, code)
    os.chdir(code)
    try:
        handler = _load(function["handler"])
    except BaseException as error:  # every init failure is reported, as Lambda's runtime does
        record = _init_error(function["handler"], error)
        print(json.dumps(record), file=sys.stderr, flush=True)
        write_frame(answers, INIT_ERROR, json.dumps(record).encode())
        return 1
    write_frame(answers, READY, b"")
    while (frame := read_frame(requests)) is not None:
        request = json.loads(frame[1])
        context = LambdaContext(
            function["name"], function["memory_mb"], request["id"], request["deadline_ms"]
        )
        started = time.perf_counter()
        try:
            result = handler(request["event"], context)
        except Exception as error:
            record = {**error_record(error), "requestId": request["id"]}
            print(json.dumps(record), file=sys.stderr, flush=True)
            print(report_line(request["id"], started, function["memory_mb"]), file=sys.stderr, flush=True)
            write_frame(answers, ERROR, json.dumps(record).encode())
            continue
        print(report_line(request["id"], started, function["memory_mb"]), file=sys.stderr, flush=True)
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as error:
            record = error_record(error, "Runtime.MarshalError", f"Unable to marshal response: {error}")
            write_frame(answers, ERROR, json.dumps(record).encode())
            continue
        write_frame(answers, RESULT, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
