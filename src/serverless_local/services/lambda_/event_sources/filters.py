"""Event source mappings' `FilterCriteria`: EventBridge patterns over the records Lambda would send.

A record is kept when any filter's pattern matches it. For SQS the pattern sees the message `body`
parsed when it is JSON (and as text otherwise); for DynamoDB streams a number (`{"N": "42"}`) is
compared as a number, so `numeric` patterns work as they do on AWS. The matching is moto's EventBridge
pattern engine (`prefix`, `suffix`, `anything-but`, `numeric`, `exists`, `equals-ignore-case`,
`wildcard`, `$or`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from serverless_local.template import TemplateError

Matcher = Callable[[dict[str, Any]], bool]


def matcher(criteria: Any, *, where: str) -> Matcher | None:
    """A function telling which records pass `criteria` (FilterCriteria), or None when there are none."""
    if not isinstance(criteria, dict) or not criteria.get("Filters"):
        return None
    from moto.events.models import EventPattern

    patterns = []
    for entry in criteria["Filters"]:
        pattern = entry.get("Pattern") if isinstance(entry, dict) else None
        text = pattern if isinstance(pattern, str) else json.dumps(pattern)
        try:
            patterns.append(EventPattern.load(text))
        except Exception as error:  # moto's parser raises its own error types
            raise TemplateError(f"{where}: FilterCriteria pattern {text!r} is not valid: {error}") from None

    def matches(record: dict[str, Any]) -> bool:
        seen = _as_seen(record)
        return any(pattern.matches_event(seen) for pattern in patterns)  # type: ignore[arg-type]

    return matches


def _as_seen(record: dict[str, Any]) -> dict[str, Any]:
    """The record as a filter pattern sees it."""
    if "body" in record and isinstance(record["body"], str):
        try:
            return {**record, "body": json.loads(record["body"])}
        except ValueError:
            return record
    if "dynamodb" in record:
        return {**record, "dynamodb": _numbers(record["dynamodb"])}
    return record


def _numbers(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"N"} and isinstance(value["N"], str):
            try:
                number = Decimal(value["N"])
            except InvalidOperation:
                return value
            return {"N": int(number) if number == number.to_integral_value() else float(number)}
        return {key: _numbers(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_numbers(inner) for inner in value]
    return value
