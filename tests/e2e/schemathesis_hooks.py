"""Schemathesis hooks: generated data kept to what the document states in words (JSON Schema
cannot say these rules; the document's descriptions do)."""

from __future__ import annotations

import itertools
import re
from collections.abc import MutableMapping
from decimal import Decimal
from typing import Any

import schemathesis
from email_validator import EmailNotValidError, validate_email


def _valid_address(value: Any) -> bool:
    """`format: email` is checked by email-validator (no DNS): it refuses special-use domains
    (RFC 6761: .test, .invalid, .localhost...), local parts over 64 characters and the like."""
    try:
        validate_email(value, check_deliverability=False)
    except (EmailNotValidError, TypeError):
        return False
    return True


def _dynamodb_number(value: Any) -> bool:
    """`x-dynamodb-number`: at most 38 significant digits, and zero or at least 1e-130 in size
    (DynamoDB's precision and range; the upper bound is in the schema)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return True
    number = Decimal(repr(value) if isinstance(value, float) else value)
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    return len(digits) <= 38 and (not number or abs(number) >= Decimal("1e-130"))


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """Keep positive bodies whose email and amount meet the documented rules."""
    if not isinstance(body, dict):
        return True
    if "email" in body and isinstance(body["email"], str) and not _valid_address(body["email"]):
        return False
    # An id is written as a plain integer: JSON Schema's `integer` also counts 5.0, which the
    # server refuses on purpose (a number that is not a plain integer is 422, issue 8).
    if isinstance(body.get("id"), float):
        return False
    return _dynamodb_number(body.get("amount"))


_idempotency_keys = itertools.count()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """The document asks for one Idempotency-Key per intended create: each request's key is made
    unique, in every phase (the same key with another body is 422 by design, and a repeat is a
    replay: tests/e2e/test_idempotency.py)."""
    headers = case.headers
    key = headers.get("Idempotency-Key") if isinstance(headers, MutableMapping) else None
    # Only keys the server accepts: a malformed one is refused (400) whatever it repeats.
    if isinstance(key, str) and re.fullmatch(r'"?[\x21\x23-\x7e]{1,240}"?', key):
        headers["Idempotency-Key"] = f"{key.strip(chr(34))}-{next(_idempotency_keys)}"
