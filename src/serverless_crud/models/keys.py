"""The record's key rules, without pydantic: shared by the model and by the read paths."""

from __future__ import annotations

import re

from serverless_crud.errors import InvalidParameter

#: Largest id the server accepts or assigns: every JavaScript client reads it exactly.
MAX_ID = 2**53 - 1
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_DIGITS = re.compile(r"^[0-9]{1,16}$")


def normalise_email(value: str) -> str:
    """Trim and lower-case an address, or raise ValueError if it is not one."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError("must be a valid email address")
    return email


def parse_email(raw: str) -> str:
    """A partition key from a URL or query string, or InvalidParameter."""
    try:
        return normalise_email(raw)
    except ValueError:
        raise InvalidParameter(f"{raw!r} is not a valid email address") from None


def parse_id(raw: str) -> int:
    """A sort key from a URL: a positive integer, or InvalidParameter."""
    if _DIGITS.match(raw) and 1 <= (value := int(raw)) <= MAX_ID:
        return value
    raise InvalidParameter(f"the id must be an integer from 1 to {MAX_ID}, not {raw!r}")
