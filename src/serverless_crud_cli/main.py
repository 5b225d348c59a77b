"""The `serverless-crud` command: `serve` runs the whole app locally from template.yaml; `users` and
`token` manage who signs in (serverless_crud_cli.users); `import`, `export` and `erase` run jobs
against the local server or a deployed API (serverless_crud_cli.jobs); `backfill` gives existing rows
their search and sort attributes."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import NoReturn

from serverless_crud_cli import backfill

try:  # the local runtime, an optional dependency: without it `serve` says how to install it
    from serverless_local.cli import add_serve_arguments
except ModuleNotFoundError:  # pragma: no cover - installs without the runtime
    add_serve_arguments = None  # type: ignore[assignment]

#: The local stack's name (`AWS::StackName`): its functions, tables and state machines are named
#: `serverless-crud-local-…` as a deployed stack's are named after it.
LOCAL_STACK_NAME = "serverless-crud-local"
EXIT_STATUSES = """exit status: 0 done; 1 failed (one sentence on standard error says why); 2 the command line
cannot be run (usage); 3 an import finished with rows rejected (listed in a report file)."""


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
        "whose data survives restarts (serverless-local serve, for this app).",
    )
    if add_serve_arguments is not None:
        add_serve_arguments(serve)
    from serverless_crud_cli import jobs, users

    users.add_commands(commands)
    jobs.register(commands)
    backfill.add_parser(commands)
    return parser


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
    if add_serve_arguments is None:
        print(
            "serverless-crud: the local runtime is not installed: pip install ./src/serverless_local "
            "(in this repository; then run it where template.yaml is, or pass --template)",
            file=sys.stderr,
        )
        return 1
    from serverless_local.cli import serve, serve_options

    try:
        options = serve_options(arguments)
        options = dataclasses.replace(
            options,
            program="serverless-crud",
            links=("UI", "API"),
            stack_name=options.stack_name or LOCAL_STACK_NAME,
        )
    except ValueError as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return 1
    return serve(options)


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
