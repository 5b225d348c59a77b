"""The `serverless-crud` command: `serve` runs the whole app locally from template.yaml; `users` and
`token` manage who signs in (serverless_crud_cli.users); `import`, `export` and `erase` run jobs
against the local server or a deployed API (serverless_crud_cli.jobs); `backfill` gives existing rows
their search and sort attributes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from serverless_crud_cli import backfill

EXIT_STATUSES = """exit status: 0 done; 1 failed (one sentence on standard error says why); 2 the command line
cannot be run (usage); 3 an import finished with rows rejected (listed in a report file)."""


def port(value: str) -> int:
    """A TCP port number, 0 for any free one (argparse type)."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0 to 65535; 0 picks a free one)")
    return number


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("serverless-crud")
    except PackageNotFoundError:
        return "unknown"


class Parser(argparse.ArgumentParser):
    """argparse, saying what is wrong with a command line in one sentence (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="serverless-crud",
        description=__doc__,
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the API and UI locally: no AWS account, no Docker",
        description="Serve the template's functions behind a local API Gateway, each in execution "
        "environments of its own, with its tables in an embedded AWS (one endpoint for every service) "
        "whose data survives restarts.",
    )
    serve.add_argument(
        "--port", type=port, default=3000, help="API and UI port (default 3000; 0: any free one)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--template",
        type=Path,
        default=Path("template.yaml"),
        help="the SAM template (default template.yaml)",
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
        help="the local AWS endpoint: DynamoDB and every other embedded service (default: port + 1)",
    )
    serve.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="warm instances each function may have at once (default 1)",
    )
    serve.add_argument(
        "--integration-timeout",
        type=float,
        default=29.0,
        help="seconds before the gateway answers 504 (API Gateway: 29)",
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
        "--parameter-overrides",
        nargs="*",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters, as sam deploy takes them (AuthMode=none: the open API, no sign-in)",
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
    from serverless_crud_cli import jobs, users

    users.add_commands(commands)
    jobs.register(commands)
    backfill.add_parser(commands)
    return parser


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise ValueError(f"a parameter override must be NAME=VALUE, not {pair!r}")
        overrides[name] = value
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; errors are one sentence on stderr and exit status 1."""
    arguments = _parser().parse_args(argv)
    if arguments.command == "backfill":
        return _backfill(arguments)
    if arguments.command in ("users", "token"):
        from serverless_crud_cli import users

        return users.run(arguments)
    if arguments.command != "serve":
        from serverless_crud_cli import jobs

        return jobs.run(arguments)
    try:
        from serverless_local.journal import SnapshotError
        from serverless_local.server import ServeOptions, StartError, run
        from serverless_local.template import TemplateError
    except ModuleNotFoundError as error:
        print(
            f"serverless-crud: the local runtime needs {error.name}, which is not installed: "
            "pip install 'serverless-crud[local]' (and run it where template.yaml is, or pass --template)",
            file=sys.stderr,
        )
        return 1

    try:
        options = ServeOptions(
            template=arguments.template,
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
            sync=not arguments.no_fsync,
            parameter_overrides=_overrides(arguments.parameter_overrides),
            throttle_batch_writes=max(0, arguments.throttle_batch_writes),
        )
        run(options)
    except (StartError, TemplateError, SnapshotError, ValueError) as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(f"serverless-crud: {error.strerror or error}{where}", file=sys.stderr)
        return 1
    return 0


def _backfill(arguments: argparse.Namespace) -> int:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    from serverless_crud.errors import StoreUnavailable
    from serverless_crud.settings import ConfigurationError

    try:
        try:
            print(backfill.run(arguments))
        except StoreUnavailable as error:
            if isinstance(error.__cause__, BotoCoreError | ClientError):
                raise error.__cause__ from None  # said below, as the SDK's own error
            raise
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            where = f" at {arguments.endpoint_url}" if arguments.endpoint_url else ""
            print(f"serverless-crud: there is no table {arguments.table}{where}", file=sys.stderr)
        else:
            message = error.response.get("Error", {}).get("Message") or "DynamoDB refused the request"
            print(f"serverless-crud: {message}", file=sys.stderr)
        return 1
    except EndpointConnectionError:
        where = arguments.endpoint_url or "AWS"
        print(f"serverless-crud: cannot reach DynamoDB at {where} (is `make run` running?)", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            "serverless-crud: no AWS credentials: configure them (`aws configure`) or give --endpoint-url",
            file=sys.stderr,
        )
        return 1
    except NoRegionError:
        print("serverless-crud: no AWS region: set AWS_REGION (or `aws configure`)", file=sys.stderr)
        return 1
    except (BotoCoreError, StoreUnavailable, ConfigurationError) as error:
        print(f"serverless-crud: DynamoDB could not be used: {error}", file=sys.stderr)
        return 1
    return 0
