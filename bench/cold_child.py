"""One cold start, run as a script in a fresh interpreter by bench.coldstart (not imported).

It sits in a task directory (as Lambda's /var/task) holding the function's code. The measured
window runs the given steps in order: importing modules (the handler's own imports, split into
named steps so the table can say where time goes; the work is the same as one import), creating
the DynamoDB client, then serving one first request. DynamoDB is answered by botocore's Stubber,
imported and armed while the clock is stopped, so neither side pays for it. Garbage-collector
time inside the window is measured with `gc.callbacks`. Each step is timed in wall time
(perf_counter_ns) and in CPU time (process_time_ns), which a busy machine inflates far less.
This script imports nothing before the window that the interpreter has not already loaded at
start-up (not even `typing`).

argv: steps (comma-separated: `import:MODULE`, `call:MODULE:FUNCTION[:ARGUMENT]`, `attr:MODULE:NAME` (the
client), `gc-freeze`), handler ("module.function"), event file, stub file, memory MB, timeout s.
Prints one line: `BENCH-RESULT {json}`.
"""

import gc
import sys
import time

_gc_ns = [0, 0]  # total, start of the current collection


def _on_gc(phase: str, info: object) -> None:
    if phase == "start":
        _gc_ns[1] = time.perf_counter_ns()
    else:
        _gc_ns[0] += time.perf_counter_ns() - _gc_ns[1]


class _Context:
    """The Lambda context (the same for both sides)."""

    def __init__(self, memory_mb: int, timeout_s: int) -> None:
        self.function_name = "serverless-crud-RecordsFunction"
        self.function_version = "$LATEST"
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + self.function_name
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "2026/01/01/[$LATEST]0123456789abcdef"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _run_step(step: str) -> object:
    kind, _, target = step.partition(":")
    if kind == "gc-freeze":
        gc.freeze()
        return None
    module_name, _, name = target.partition(":")
    name, _, argument = name.partition(":")
    module = __import__(module_name, fromlist=["_"])
    if kind == "call":
        return getattr(module, name)(*([argument] if argument else []))
    if kind == "attr":
        return getattr(module, name)
    return None


def main() -> None:
    """Measure one cold start and print it."""
    steps_arg, handler_name, event_path, stub_path, memory_mb, timeout_s = sys.argv[1:7]
    module_name, _, function_name = handler_name.rpartition(".")
    steps = steps_arg.split(",")
    gc.callbacks.append(_on_gc)

    timings = []  # (step, wall ms, CPU ms)
    client: object = None
    gc_before = _gc_ns[0]
    for step in steps:
        wall, cpu = time.perf_counter_ns(), time.process_time_ns()
        value = _run_step(step)
        timings.append((step, (time.perf_counter_ns() - wall) / 1e6, (time.process_time_ns() - cpu) / 1e6))
        client = value if value is not None else client
    gc_setup = _gc_ns[0]

    # Clock stopped: read the event, arm the Stubber (both sides alike).
    import json
    import os

    from botocore.stub import Stubber

    with open(event_path) as file:
        event = json.load(file)
    with open(stub_path) as file:
        stub = json.load(file)
    stubber = Stubber(client)  # type: ignore[arg-type]
    stubber.add_response(stub["operation"], stub["response"])
    stubber.activate()
    handler = getattr(sys.modules[module_name], function_name)
    context = _Context(int(memory_mb), int(timeout_s))
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 (metrics print here)

    gc_request = _gc_ns[0]
    wall, cpu = time.perf_counter_ns(), time.process_time_ns()
    response = handler(event, context)
    request_ms = (time.perf_counter_ns() - wall) / 1e6
    request_cpu_ms = (time.process_time_ns() - cpu) / 1e6
    gc_ms = (gc_setup - gc_before + _gc_ns[0] - gc_request) / 1e6

    sys.stdout = real_stdout
    stubber.assert_no_pending_responses()
    result = {
        "steps": timings,
        "request_ms": request_ms,
        "request_cpu_ms": request_cpu_ms,
        "total_ms": sum(wall_ms for _, wall_ms, _ in timings) + request_ms,
        "total_cpu_ms": sum(cpu_ms for _, _, cpu_ms in timings) + request_cpu_ms,
        "gc_ms": gc_ms,
        "status": response["statusCode"],
        "module_file": sys.modules[module_name].__file__,
    }
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
