"""HTTP as both ports see it: a request as it arrived, a response to write, and the answers the HTTP
edge gives itself to a request it refuses (API Gateway's words for them, which the AWS endpoint
words in the protocol of the service asked)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class HttpRequest:
    """A request as it arrived: the raw target (percent-encoded), header lines as sent, the body."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    local_port: int = 0
    #: When the request arrived (monotonic): the integration timeout counts from here.
    received: float = field(default_factory=time.monotonic)


@dataclass
class HttpResponse:
    """A response to write: status, header lines (repeatable), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class GatewayError:
    """One of API Gateway's own answers: status, message, gateway response type, x-amzn-ErrorType."""

    status: int
    message: str | None
    kind: str
    error_type: str
    #: The body's key: API Gateway writes "Message" for an authorizer's explicit deny.
    key: str = "message"


BAD_REQUEST = GatewayError(400, "Bad Request", "DEFAULT_4XX", "BadRequestException")
TOO_LARGE = GatewayError(413, "Request Too Long", "REQUEST_TOO_LARGE", "RequestTooLargeException")
URI_TOO_LONG = GatewayError(414, "Request-URI Too Long", "DEFAULT_4XX", "RequestUriTooLongException")
HEADERS_TOO_LARGE = GatewayError(
    431, "Request Header Fields Too Large", "DEFAULT_4XX", "RequestHeaderFieldsTooLargeException"
)
REQUEST_TIMEOUT = GatewayError(408, "Request Timeout", "DEFAULT_4XX", "RequestTimeoutException")
FAILED = GatewayError(502, "Internal server error", "DEFAULT_5XX", "InternalServerErrorException")
