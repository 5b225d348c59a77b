"""The DynamoDB client: botocore only, created on first use, with bounded retries and timeouts."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@cache
def client() -> DynamoDBClient:
    """The process's DynamoDB client (endpoint and region from the standard AWS variables)."""
    import botocore.session
    from botocore.config import Config

    # No client-side parameter validation: every item is built by one serialiser (dal/attributes.py)
    # and DynamoDB validates each request itself; botocore's walk of a 25-item BatchWriteItem cost
    # as much as the request (an import's 1,000-row chunk: ~2 s of 7 s locally).
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
        parameter_validation=False,
    )
    return cast("DynamoDBClient", botocore.session.get_session().create_client("dynamodb", config=config))
