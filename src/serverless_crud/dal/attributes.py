"""DynamoDB AttributeValue <-> Python values, exact for numbers (Decimal, never float).

Written here rather than taken from boto3.dynamodb.types so that the function never imports boto3
(botocore alone is ~40 ms faster at cold start).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from serverless_crud.models.values import number_text

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]


def serialise(value: Any) -> AttributeValue:
    """One Python value as an AttributeValue."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": number_text(value)}
    if isinstance(value, list | tuple):
        return {"L": [serialise(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {str(k): serialise(v) for k, v in value.items()}}
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def deserialise(attribute: AttributeValue) -> Any:
    """One AttributeValue as a Python value (numbers as Decimal)."""
    for kind, value in attribute.items():  # exactly one: its type and its value
        if kind == "S":
            return value
        if kind == "N":
            return Decimal(value)
        if kind in ("BOOL", "B"):
            return value
        if kind == "NULL":
            return None
        if kind == "L":
            return [deserialise(v) for v in value]
        if kind == "M":
            return {k: deserialise(v) for k, v in value.items()}
        if kind == "SS":
            return sorted(value)
        if kind == "NS":
            return sorted(Decimal(v) for v in value)
        raise TypeError(f"unsupported attribute type {kind}")
    raise TypeError("an attribute value without a type")


def serialise_item(values: Mapping[str, Any]) -> Item:
    """A mapping of attribute names to Python values as a DynamoDB item."""
    return {name: serialise(value) for name, value in values.items()}


def deserialise_item(item: Item) -> dict[str, Any]:
    """A DynamoDB item as a mapping of attribute names to Python values."""
    return {name: deserialise(value) for name, value in item.items()}
