"""One cold start, run as a script in a fresh interpreter by bench.coldstart (not imported).

It sits in a task directory (as Lambda's /var/task) holding the function's code. The measured
window is: import the handler's module, create the DynamoDB client (at import for the baseline, on
first use for the app), and serve one first request. DynamoDB is answered by botocore's Stubber;
importing and arming the Stubber happens while the clock is stopped, so neither side pays for it.
This script imports only what the interpreter has loaded at start-up before the window opens.

argv: handler ("module.function"), client getter ("module:attribute" or "module:function()"),
event file, stub file (JSON: operation and response), memory MB, timeout s.
Prints one line: `BENCH-RESULT {json}`.
"""

import sys
import time


class _Context:
    """The Lambda context (same for both sides)."""

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


def main() -> None:
    """Measure one cold start and print it."""
    handler_name, getter, event_path, stub_path, memory_mb, timeout_s = sys.argv[1:7]
    module_name, _, function_name = handler_name.rpartition(".")
    getter_module, _, getter_attr = getter.partition(":")

    t0 = time.perf_counter_ns()
    __import__(module_name)
    t1 = time.perf_counter_ns()
    owner = __import__(getter_module, fromlist=["_"])
    client = getattr(owner, getter_attr.removesuffix("()"))
    if getter_attr.endswith("()"):
        client = client()
    t2 = time.perf_counter_ns()

    # Clock stopped: read the event, arm the Stubber (both sides alike).
    import json
    import os

    from botocore.stub import Stubber

    with open(event_path) as file:
        event = json.load(file)
    with open(stub_path) as file:
        stub = json.load(file)
    stubber = Stubber(client)
    stubber.add_response(stub["operation"], stub["response"])
    stubber.activate()
    handler = getattr(sys.modules[module_name], function_name)
    context = _Context(int(memory_mb), int(timeout_s))
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 (metrics print here)

    t3 = time.perf_counter_ns()
    response = handler(event, context)
    t4 = time.perf_counter_ns()

    sys.stdout = real_stdout
    stubber.assert_no_pending_responses()
    result = {
        "import_ms": (t1 - t0) / 1e6,
        "client_ms": (t2 - t1) / 1e6,
        "request_ms": (t4 - t3) / 1e6,
        "total_ms": (t2 - t0 + t4 - t3) / 1e6,
        "status": response["statusCode"],
        "module_file": sys.modules[module_name].__file__,
        "modules_loaded": len(sys.modules),
    }
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
