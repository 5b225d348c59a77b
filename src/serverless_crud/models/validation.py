"""Requests and stored rows checked against the record's JSON Schemas (models/schemas.json), without
pydantic.

`models/schemas.json` is generated from the pydantic model (`make schemas`; a test keeps it equal),
so the rules are still defined once, and the OpenAPI document publishes the same file: what the
document says is what this module enforces. It understands the subset of JSON Schema that file
uses, plus the model's `x-` keywords, whose behaviour is the functions the model calls too:
`x-trim` (`values.trim`), `x-blank-is-null` (`values.blank_to_none`), `x-dynamodb-number`
(`values.exact_number`) and `format: email` (`keys.normalise_email`).

Two modes: a request body (JSON: strict types, trimming and normalisation, unknown members are
errors) and a stored row (DynamoDB's values: integers arrive as Decimal, missing fields take the
schema's defaults, attributes the record does not have are left out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

from serverless_crud.errors import FieldError
from serverless_crud.models import values
from serverless_crud.models.fields import schemas, server_fields
from serverless_crud.models.keys import normalise_email

_NO_DEFAULT = object()

#: check(value, path, errors) -> the clean value (or anything, when it appended an error)
Check = Callable[[Any, str, list[FieldError]], Any]


class ObjectValidator:
    """One of the schemas, compiled to a check per property."""

    def __init__(self, schema: dict[str, Any], *, stored: bool) -> None:
        self.stored = stored
        required = set(schema.get("required", ()))
        self.properties: list[tuple[str, Check, bool, Any]] = []
        for name, prop in schema["properties"].items():
            default = prop.get("default", _NO_DEFAULT)
            self.properties.append((name, _property(prop, stored=stored), name in required, default))
        self.known = frozenset(schema["properties"])
        self.managed = server_fields()

    def __call__(
        self, body: dict[str, Any], *, defaults: bool = True
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """The clean values and the errors (empty when valid). Without `defaults`, only given fields
        are returned (a merge patch)."""
        errors: list[FieldError] = []
        clean: dict[str, Any] = {}
        fill = defaults or self.stored
        for name, check, required, default in self.properties:
            if name in body:
                clean[name] = check(body[name], name, errors)
            elif not fill:
                continue
            elif default is not _NO_DEFAULT:
                clean[name] = _copy(default)
            elif required:
                errors.append(FieldError(name, "is missing" if self.stored else "is required"))
        if not self.stored:
            for name in body:
                if name not in self.known:
                    why = "is managed by the server" if name in self.managed else "is not a field of a record"
                    errors.append(FieldError(name, why))
        return clean, errors


@cache
def validator(name: str, *, stored: bool = False) -> ObjectValidator:
    """The compiled validator of schema `name` (request bodies, or stored rows)."""
    return ObjectValidator(schemas()[name], stored=stored)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _property(prop: dict[str, Any], *, stored: bool) -> Check:
    branches = prop.get("anyOf")
    nullable = branches is not None and {"type": "null"} in branches
    base = next((b for b in branches if b != {"type": "null"}), {}) if branches else prop
    # Property-level keywords (x-trim, format) apply to the branch that holds the value.
    check = _value({**base, **{k: v for k, v in prop.items() if k.startswith("x-")}}, stored=stored)

    def optional(value: Any, path: str, errors: list[FieldError]) -> Any:
        return None if value is None else check(value, path, errors)

    def required(value: Any, path: str, errors: list[FieldError]) -> Any:
        if value is None:
            errors.append(FieldError(path, "must not be null"))
            return None
        return check(value, path, errors)

    return optional if nullable else required


def _value(schema: dict[str, Any], *, stored: bool) -> Check:
    kind = schema.get("type")
    if kind == "string":
        return _string(schema, stored=stored)
    if kind == "integer":
        return _integer(schema, stored=stored)
    if kind == "number":
        return _stored_number if stored else _number(schema)
    if kind == "boolean":
        return _boolean
    if kind == "array":
        return _array(schema, stored=stored)
    raise ValueError(f"schema type {kind!r} is not supported")


def _string(schema: dict[str, Any], *, stored: bool) -> Check:
    max_length = schema.get("maxLength")
    min_length = schema.get("minLength", 0)
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None
    normalise = not stored
    trim = normalise and schema.get("x-trim", False)
    blank_is_null = normalise and schema.get("x-blank-is-null", False)
    email = normalise and schema.get("format") == "email"

    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, str):
            errors.append(FieldError(path, "must be a string"))
            return value
        if max_length is not None and len(value) > max_length:
            errors.append(FieldError(path, f"must be at most {max_length} characters"))
        elif len(value) < min_length:
            errors.append(FieldError(path, "must not be empty"))
        elif pattern is not None and not pattern.search(value):
            errors.append(FieldError(path, "must not be blank"))
        elif email:
            try:
                return normalise_email(value)
            except ValueError as error:
                errors.append(FieldError(path, str(error)))
        elif trim:
            text = values.trim(value)
            return values.blank_to_none(text) if blank_is_null else text
        return value

    return check


def _integer(schema: dict[str, Any], *, stored: bool) -> Check:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        expected = f"must be a whole number from {low} to {high}"
    else:
        expected = (
            f"must be a whole number of at least {low}" if low is not None else "must be a whole number"
        )

    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if stored and isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
            value = int(value)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            errors.append(FieldError(path, expected))
        return value

    return check


def _number(schema: dict[str, Any]) -> Check:
    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        try:
            return values.exact_number(value)
        except ValueError as error:
            errors.append(FieldError(path, str(error)))
            return value

    if not schema.get("x-dynamodb-number"):
        raise ValueError("numbers of the record are DynamoDB numbers (x-dynamodb-number)")
    return check


def _stored_number(value: Any, path: str, errors: list[FieldError]) -> Any:
    # Every number DynamoDB returns is one it stores exactly: only the type needs checking.
    if not isinstance(value, Decimal):
        errors.append(FieldError(path, "must be a number"))
    return value


def _boolean(value: Any, path: str, errors: list[FieldError]) -> Any:
    if not isinstance(value, bool):
        errors.append(FieldError(path, "must be true or false"))
    return value


def _array(schema: dict[str, Any], *, stored: bool) -> Check:
    max_items = schema.get("maxItems")
    item = _value({**schema["items"], "x-trim": schema.get("x-trim", False)}, stored=stored)

    def check(value: Any, path: str, errors: list[FieldError]) -> Any:
        if not isinstance(value, list):
            errors.append(FieldError(path, "must be a list"))
            return value
        if max_items is not None and len(value) > max_items:
            errors.append(FieldError(path, f"must have at most {max_items} items"))
            return value
        return [item(entry, f"{path}.{index}", errors) for index, entry in enumerate(value)]

    return check
