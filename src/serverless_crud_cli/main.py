"""The `serverless-crud` command: `serve` runs the whole app locally from template.yaml; `users` and
`token` manage who signs in (serverless_crud_cli.users); `import`, `export` and `erase` run jobs
against the local server or a deployed API (serverless_crud_cli.jobs); `backfill` gives existing rows
their search and sort attributes."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from serverless_crud_cli import backfill
from serverless_local.cli import add_serve_arguments, serve, serve_options


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serverless-crud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the API and UI locally: no AWS account, no Docker",
        description="Serve the template's functions behind a local API Gateway, each in execution "
        "environments of its own, with its tables in an embedded AWS (one endpoint for every service) "
        "whose data survives restarts (serverless-local serve, for this app).",
    )
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
    try:
        options = dataclasses.replace(
            serve_options(arguments), program="serverless-crud", links=("UI", "API")
        )
    except ValueError as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return 1
    return serve(options)


def _backfill(arguments: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from serverless_crud.errors import StoreUnavailable
    from serverless_crud.settings import ConfigurationError

    try:
        print(backfill.run(arguments))
    except ClientError as error:
        print(
            f"serverless-crud: {error.response.get('Error', {}).get('Message', 'DynamoDB refused')}",
            file=sys.stderr,
        )
        return 1
    except (BotoCoreError, StoreUnavailable, ConfigurationError) as error:
        print(f"serverless-crud: DynamoDB could not be used: {error}", file=sys.stderr)
        return 1
    return 0
