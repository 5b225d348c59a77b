"""The AWS clients: botocore only (boto3 would cost ~40 ms of cold start), one per service, created
on first use, with bounded retries and timeouts. The one place a client is made."""

from __future__ import annotations

from functools import cache
from typing import Any

#: Seconds to wait for an answer: a records request must fail well within the function's 10 s
#: (three attempts); the jobs' S3 and Step Functions calls move whole files and may take longer.
READ_TIMEOUTS = {"dynamodb": 5}
DEFAULT_READ_TIMEOUT = 10


@cache
def client(service: str) -> Any:
    """The process's botocore client of `service` (endpoint and region from the standard AWS variables).

    Parameters are not validated by botocore: the app builds every request itself from values the
    record's rules have checked, and DynamoDB checks them again; the client-side check cost ~18% of
    a warm request.
    """
    import botocore.session
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=READ_TIMEOUTS.get(service, DEFAULT_READ_TIMEOUT),
        tcp_keepalive=True,
        parameter_validation=False,
    )
    return botocore.session.get_session().create_client(service, config=config)
