"""Lambda's outcomes of one invocation, as every caller of the local Lambda sees them.

The gateway maps them to HTTP, a Step Functions task to its errors; the Lambda service produces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Success:
    """The function returned: its result, as Lambda's JSON."""

    payload: Any


@dataclass(frozen=True)
class FunctionError:
    """The function failed (Lambda's `FunctionError: Unhandled`): errorType, errorMessage, stackTrace."""

    error_type: str
    error_message: str
    stack_trace: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The error as Lambda's invoke API returns it."""
        return {
            "errorType": self.error_type,
            "errorMessage": self.error_message,
            "stackTrace": self.stack_trace,
        }


@dataclass(frozen=True)
class Timeout(FunctionError):
    """The function ran past its Timeout and its environment was ended (errorType Sandbox.Timedout)."""


Result = Success | FunctionError


class PayloadTooLarge(Exception):
    """The event is over Lambda's 6 MB limit on a request (Lambda refuses it; nothing runs)."""


class DeadlineExceeded(Exception):
    """The caller's deadline passed before the function answered (it runs on to its own Timeout)."""


#: invoke(function (logical id, name or ARN), event, deadline (monotonic)) -> Result
Invoke = Callable[[str, Any, float], Result]
