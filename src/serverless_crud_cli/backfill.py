"""`serverless-crud backfill`: give existing rows the derived attributes that search and sort read."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parser(commands: Any) -> None:
    """Register the command."""
    parser = commands.add_parser(
        "backfill",
        help="add the search and sort attributes to rows written before them (once per table)",
        description="Scan the records table and write the derived attributes of docs/access-patterns.md "
        "on every row that lacks them or has them stale; each write is conditional on the row's version. "
        "Uses the standard AWS variables (AWS_PROFILE, AWS_REGION, ...) or --endpoint-url.",
    )
    parser.add_argument("--table", required=True, help="the records table's name")
    parser.add_argument(
        "--partition-key", default="email", help="its partition key attribute (default email)"
    )
    parser.add_argument("--sort-key", default="id", help="its sort key attribute (default id)")
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint (e.g. the local runtime's AWS endpoint)")


def run(arguments: argparse.Namespace) -> str:
    """Backfill the table; the sentence to print."""
    from serverless_crud import settings
    from serverless_crud.wiring import record_repository

    if arguments.endpoint_url:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = arguments.endpoint_url
        # A local endpoint takes any credentials and region: needing none configured is the point.
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
            os.environ["AWS_ACCESS_KEY_ID"] = "local"
            os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105 (the local endpoint's any)
    environment = {
        "TABLE_NAME": arguments.table,
        "PARTITION_KEY": arguments.partition_key,
        "SORT_KEY": arguments.sort_key,
    }
    repository = record_repository(settings.load(environment))
    total, start = 0, None
    while True:
        written, start = repository.backfill(start)
        total += written
        if start is None:
            return f"backfill: {total} rows of {arguments.table} given their search and sort attributes"
