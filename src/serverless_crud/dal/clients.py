"""The AWS clients: botocore only (boto3 would cost ~40 ms of cold start), one per service, created
on first use, with bounded retries and timeouts. The one place a client is made."""

from __future__ import annotations

from functools import cache
from typing import Any

#: Seconds to wait for an answer: a records request must fail well within the function's 10 s
#: (three attempts); the jobs' S3 and Step Functions calls move whole files and may take longer,
#: and S3 copies a part of an export in one request (up to a minute).
READ_TIMEOUTS = {"dynamodb": 5, "s3": 60}
DEFAULT_READ_TIMEOUT = 10
#: Connections a client keeps: an export's join and an import's split talk to S3 16 at a time.
POOL_CONNECTIONS = {"s3": 32}
#: Seconds the jobs' tasks wait for one bulk request (a 1 MB Scan page, a BatchWriteItem of 25):
#: they run for minutes, and a request abandoned at 5 s and sent again costs the store twice (on a
#: saturated store, again and again).
BULK_READ_TIMEOUT = 30


@cache
def client(service: str, *, bulk: bool = False) -> Any:
    """The process's botocore client of `service` (endpoint and region from the standard AWS
    variables); `bulk`: the jobs' tasks' client, which waits longer for an answer.

    Parameters are not validated by botocore: the app builds every request itself from values the
    record's rules have checked, and DynamoDB checks them again; the client-side check cost ~18% of
    a warm request.
    """
    import botocore.session
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=max(READ_TIMEOUTS.get(service, DEFAULT_READ_TIMEOUT), BULK_READ_TIMEOUT if bulk else 0),
        tcp_keepalive=True,
        parameter_validation=False,
        max_pool_connections=POOL_CONNECTIONS.get(service, 10),
    )
    created = botocore.session.get_session().create_client(service, config=config)
    if service == "dynamodb":
        remember_endpoints(created)
    return created


def remember_endpoints(client: Any) -> None:
    """Resolve each DynamoDB operation's endpoint once per table instead of on every call.

    botocore runs the service's endpoint rules for every request (~7% of a warm request). For
    DynamoDB their only inputs that vary between calls are the operation and the table names
    (`ResourceArn`, `ResourceArnList`); the rest (region, FIPS, dual-stack, the endpoint URL, the
    account-id mode) are the client's, fixed when it is made. A client without a rules resolver (an
    older botocore) is left as it is.
    """
    resolver: Any = getattr(client, "_ruleset_resolver", None)
    resolve = getattr(resolver, "construct_endpoint", None)
    if resolve is None:
        return
    known: dict[tuple[Any, ...], Any] = {}

    def construct_endpoint(operation_model: Any, call_args: Any, request_context: Any) -> Any:
        arguments = call_args or {}
        tables = arguments.get("RequestItems")
        key = (
            operation_model.name,
            arguments.get("TableName"),
            tuple(tables) if isinstance(tables, dict) else (),
        )
        found = known.get(key)
        if found is None:
            found = known[key] = resolve(
                operation_model=operation_model, call_args=call_args, request_context=request_context
            )
        return found

    resolver.construct_endpoint = construct_endpoint
