"""`serverless-local`: a local AWS for a SAM application, from its template, in one process, no Docker.

- `serve` runs the template: its functions, APIs, queues, topics, tables, streams, buckets, buses,
  schedules, state machines, user pools... in an embedded AWS with one endpoint, its data kept in the
  state directory.
- `logs FUNCTION [--follow]` prints a function's log (CloudWatch Logs at the endpoint).
- `fire SCHEDULE` fires a schedule (or a scheduled rule) now.

Commands other than `serve` find the running server through the state directory (`--state-dir`), or
`--endpoint`. Every failure is one sentence on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from serverless_local.options import INTEGRATION_TIMEOUT_SECONDS, SERVER_FILE, ServeOptions, find_template

PROGRAM = "serverless-local"
FOLLOW_SECONDS = 1.0


class CliError(Exception):
    """A failure the user can act on, said in one sentence."""


def port(value: str) -> int:
    """A TCP port number, 0 for any free one (argparse type)."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0 to 65535; 0 picks a free one)")
    return number


class Parser(argparse.ArgumentParser):
    """argparse, saying what is wrong with a command line in one sentence (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    """The options of `serve` (shared with a product's own `serve` wrapper)."""
    serve.add_argument("--port", type=port, default=3000, help="API port (default 3000; 0: any free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--template", type=Path, default=None, help="SAM template (default: template.yaml, else template.yml)"
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STATE_DIR") or ".local"),
        help="where local data lives (default $STATE_DIR or .local)",
    )
    serve.add_argument(
        "--fresh", action="store_true", help="start empty: delete every service's data in the state directory"
    )
    serve.add_argument(
        "--reload", action="store_true", help="fresh execution environments when a function's source changes"
    )
    serve.add_argument(
        "--aws-port",
        "--dynamodb-port",
        dest="aws_port",
        type=port,
        default=None,
        help="the AWS endpoint: every embedded service (default: the API port + 1)",
    )
    serve.add_argument(
        "--concurrency", type=int, default=1, help="warm instances each function may have at once (default 1)"
    )
    serve.add_argument(
        "--integration-timeout",
        type=float,
        default=INTEGRATION_TIMEOUT_SECONDS,
        help="seconds before a REST API answers 504 (API Gateway: 29)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=60.0,
        help="seconds before an idle keep-alive connection is closed (default 60)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=1024,
        help="open connections the API port accepts at once (default 1024)",
    )
    serve.add_argument(
        "--async-retry-delay",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="before the first retry of a failed asynchronous invocation, doubled for the second "
        "(Lambda: about a minute)",
    )
    serve.add_argument(
        "--parameter-overrides",
        nargs="*",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, as sam deploy takes them",
    )
    serve.add_argument(
        "--stack-name",
        default=None,
        metavar="NAME",
        help="AWS::StackName (default serverless-local), as sam deploy's --stack-name names the stack",
    )
    serve.add_argument(
        "--no-fsync", action="store_true", help="do not fsync journal writes (throw-away data only)"
    )
    serve.add_argument(
        "--throttle-batch-writes",
        type=int,
        default=0,
        metavar="N",
        help="every Nth DynamoDB BatchWriteItem leaves half its items unprocessed, as a throttled "
        "table does (to watch retries work; default 0: never)",
    )


def serve_options(arguments: argparse.Namespace) -> ServeOptions:
    """The server's options from `serve`'s arguments (ValueError names a bad one)."""
    overrides = {}
    for pair in arguments.parameter_overrides:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise ValueError(f"a parameter override must be NAME=VALUE, not {pair!r}")
        overrides[name] = value
    return ServeOptions(
        template=arguments.template or find_template(),
        host=arguments.host,
        port=arguments.port,
        aws_port=arguments.aws_port,
        concurrency=arguments.concurrency,
        state_dir=arguments.state_dir,
        fresh=arguments.fresh,
        reload=arguments.reload,
        integration_timeout=arguments.integration_timeout,
        idle_timeout=arguments.idle_timeout,
        max_connections=arguments.max_connections,
        async_retry_delay=max(0.0, arguments.async_retry_delay),
        sync=not arguments.no_fsync,
        parameter_overrides=overrides,
        stack_name=arguments.stack_name,
        throttle_batch_writes=max(0, arguments.throttle_batch_writes),
    )


def serve(options: ServeOptions) -> int:
    """Run the server until Ctrl-C or SIGTERM; 1 with one sentence if it cannot start."""
    # A shell starts a background job with SIGINT ignored, and the server takes SIGINT once it runs:
    # take it from the first instant too, or a Ctrl-C (a `kill -INT`) while it starts is lost.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _serve(options)
    except BaseException as error:
        # Ctrl-C while it was starting (importing, or starting its services, which `run` stops again).
        # Python may wrap the interrupt: one raised while a class is made is a RuntimeError.
        if not _interrupted(error):
            raise
        print(f"{options.program}: stopped", file=sys.stderr, flush=True)
        return 130


def _interrupted(error: BaseException | None) -> bool:
    """Whether `error` is a KeyboardInterrupt or was raised because of one."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False


def _serve(options: ServeOptions) -> int:
    program = options.program
    try:
        from serverless_local.journal import SnapshotError
        from serverless_local.server import StartError, run
        from serverless_local.template import TemplateError
    except ModuleNotFoundError as error:
        print(
            f"{program}: the local runtime needs {error.name}, which is not installed: "
            "reinstall serverless-local (pip install ./src/serverless_local) with its dependencies",
            file=sys.stderr,
        )
        return 1
    try:
        run(options)
    except (StartError, TemplateError, SnapshotError, ValueError) as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(f"{program}: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    # Every service has stopped and what it holds is on disk: what is left of a normal exit is the
    # interpreter tearing moto's modules down, seconds of garbage collection for nothing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROGRAM, description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_arguments(
        commands.add_parser("serve", help="run the SAM application of this directory (or --template)")
    )
    logs = commands.add_parser("logs", help="print a function's log (--follow: and what comes next)")
    logs.add_argument("function", help="the function: its logical id or name")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    logs.add_argument("--since", default="10m", help="how far back: 30s, 10m, 2h, 1d (default 10m)")
    logs.add_argument("--filter", default=None, help="a CloudWatch Logs filter pattern")
    fire = commands.add_parser("fire", help="fire a schedule (a ScheduleV2, or a Schedule event's rule) now")
    fire.add_argument("schedule", help="its name (a SAM Schedule event's rule is <Function><EventId>)")
    for command in (logs, fire):
        command.add_argument(
            "--state-dir",
            type=Path,
            default=Path(os.environ.get("STATE_DIR") or ".local"),
            help="the running server's state directory (default $STATE_DIR or .local)",
        )
        command.add_argument("--endpoint", default=None, help="the running server's AWS endpoint URL")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    arguments = _parser().parse_args(argv)
    if arguments.command == "serve":
        try:
            return serve(serve_options(arguments))
        except ValueError as error:
            print(f"{PROGRAM}: {error}", file=sys.stderr)
            return 1
    try:
        endpoint = arguments.endpoint or running_endpoint(arguments.state_dir)
        if arguments.command == "fire":
            print(fire(endpoint, arguments.schedule))
            return 0
        return follow_logs(endpoint, arguments.function, arguments.since, arguments.filter, arguments.follow)
    except CliError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def running_endpoint(state_dir: Path) -> str:
    """The AWS endpoint of the server running with `state_dir`."""
    path = state_dir / SERVER_FILE
    try:
        return str(json.loads(path.read_text())["endpoint"])
    except (OSError, ValueError, KeyError):
        raise CliError(
            f"no server has run with the state directory {state_dir} (start one, or pass --endpoint)"
        ) from None


def fire(endpoint: str, schedule: str) -> str:
    """Fire `schedule` on the server at `endpoint`; what it fired."""
    if not endpoint.startswith(("http://", "https://")):
        raise CliError(f"the endpoint must be an http:// URL, not {endpoint!r}")
    url = f"{endpoint}/_local/schedules/{urllib.parse.quote(schedule, safe='')}"
    request = urllib.request.Request(url, method="POST")  # noqa: S310 (checked just above)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the local endpoint)
            return f"fired {json.loads(response.read())['fired']}"
    except urllib.error.HTTPError as error:
        raise CliError(str(json.loads(error.read() or b"{}").get("message") or error.reason)) from None
    except (urllib.error.URLError, OSError) as error:
        raise CliError(f"no server answers at {endpoint} ({getattr(error, 'reason', error)})") from None


def _client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the local endpoint takes any credentials)
    )


def follow_logs(endpoint: str, function: str, since: str, pattern: str | None, follow: bool) -> int:
    """Print a function's log events from `since` ago; with `follow`, then every new one."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        configuration = _client(endpoint, "lambda").get_function(FunctionName=function)["Configuration"]
        group = (configuration.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{function}"
        logs = _client(endpoint, "logs")
        start = int((time.time() - _seconds(since)) * 1000)
        seen: set[str] = set()
        while True:
            options: dict[str, Any] = {"logGroupName": group, "startTime": start, "interleaved": True}
            if pattern:
                options["filterPattern"] = pattern
            for page in logs.get_paginator("filter_log_events").paginate(**options):
                for event in page.get("events", []):
                    if event["eventId"] in seen:
                        continue
                    seen.add(event["eventId"])
                    start = max(start, int(event["timestamp"]))
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(event["timestamp"] / 1000))
                    print(f"{stamp}.{event['timestamp'] % 1000:03d} {event['message']}", flush=True)
            if not follow:
                return 0
            time.sleep(FOLLOW_SECONDS)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ResourceNotFoundException":
            raise CliError(f"no function {function} (or it has logged nothing yet)") from None
        raise CliError(error.response.get("Error", {}).get("Message") or str(error)) from None
    except BotoCoreError as error:
        raise CliError(f"no server answers at {endpoint} ({error})") from None


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise CliError(f"--since takes a duration such as 30s, 10m, 2h or 1d, not {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
