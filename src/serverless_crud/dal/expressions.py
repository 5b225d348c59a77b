"""Condition and update expressions: every attribute name and value goes through #n/:v placeholders
(ExpressionAttributeNames/Values), never raw into an expression."""

from __future__ import annotations

from typing import Any

from serverless_crud.dal.attributes import serialise
from serverless_crud.models.preconditions import MISSING_VERSION, Expected


class Expression:
    """Builds one request's expressions and their placeholders."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute name."""
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        """The placeholder of a value."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = serialise(value)
        return placeholder

    def version_is(self, versions: frozenset[int]) -> str:
        """The stored version is one of `versions` (a missing version attribute counts as 1)."""
        if not versions:
            anything = self.name("version")  # a contradiction: no item satisfies it
            return f"(attribute_exists({anything}) AND attribute_not_exists({anything}))"
        version = self.name("version")
        choices = ", ".join(self.value(v) for v in sorted(versions))
        missing = f" OR attribute_not_exists({version})" if 1 in versions else ""
        return f"({version} IN ({choices}){missing})"

    def condition(self, pk: str, expected: Expected, *, well_formed: bool) -> str:
        """The record exists, meets `expected` and, with `well_formed`, has server fields of the
        types the update arithmetic needs (a row written by another tool may not)."""
        parts = [f"attribute_exists({self.name(pk)})"]
        if well_formed:
            version, created = self.name("version"), self.name("created_at")
            number, text = self.value_of_type("N"), self.value_of_type("S")
            parts.append(
                f"(attribute_not_exists({version}) OR "
                f"(attribute_type({version}, {number}) AND {version} >= {self.value(1)}))"
            )
            parts.append(f"(attribute_not_exists({created}) OR attribute_type({created}, {text}))")
        if expected.match is not None:
            parts.append(self.version_is(expected.match))
        if expected.none_match_any:
            parts.append(self.version_is(frozenset()))
        elif expected.none_match is not None:
            parts.append(f"NOT {self.version_is(expected.none_match)}")
        if expected.stored is not None:
            version = self.name("version")
            parts.append(
                f"attribute_not_exists({version})"
                if expected.stored == MISSING_VERSION
                else f"{version} = {self.value(expected.stored)}"
            )
        return " AND ".join(parts)

    def value_of_type(self, kind: str) -> str:
        """The placeholder of a DynamoDB type name (for attribute_type)."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = {"S": kind}
        return placeholder

    def params(self) -> dict[str, Any]:
        """The request parameters of the placeholders used."""
        params: dict[str, Any] = {"ExpressionAttributeNames": self.names}
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params
