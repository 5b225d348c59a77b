"""The SAM template's parameters as the module's variables: same names in snake_case, typed.

A parameter `ExistingTableName` is the variable `existing_table_name`; "true"/"false" become a
bool where the variable is one, a comma-separated list a list, a number a number.
"""

from __future__ import annotations

from typing import Any

from .syntax import Module, Name, snake_case


def variable_name(parameter: str) -> str:
    return snake_case(parameter)


def variable_type(module: Module, name: str) -> str:
    """The declared type of a variable, as written (`string`, `bool`, `number`, `list(string)`...)."""
    declared = module.variables[name].body.attributes["type"].expr
    if isinstance(declared, Name):
        return declared.name
    return "list(string)" if "list" in repr(declared) else "map(string)" if "map" in repr(declared) else "?"


def as_variable(module: Module, parameter: str, value: Any) -> tuple[str, Any]:
    """(variable name, value) of one SAM parameter value."""
    name = variable_name(parameter)
    kind = variable_type(module, name)
    text = str(value)
    if kind == "bool":
        assert text in ("true", "false"), f"{parameter}={text!r} is not a bool"
        return name, text == "true"
    if kind == "number":
        return name, int(text) if text.lstrip("-").isdigit() else float(text)
    if kind == "list(string)":
        return name, [item.strip() for item in text.split(",")]
    return name, text


def variables_for(module: Module, overrides: dict[str, str]) -> dict[str, Any]:
    """The variables of a deployment that overrides these SAM parameters."""
    return dict(as_variable(module, parameter, value) for parameter, value in overrides.items())
