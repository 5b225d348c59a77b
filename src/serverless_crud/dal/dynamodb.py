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

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    return cast("DynamoDBClient", botocore.session.get_session().create_client("dynamodb", config=config))
