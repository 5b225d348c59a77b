"""The module against the AWS provider's schema: types, arguments, blocks, required arguments, values.

The schema is the file scripts/terraform_provider_schema.py condenses from the provider's published
bindings (`make install` builds it into build/terraform/). Two passes:

- `check_structure` reads the module as written: every resource, data source and ephemeral resource
  type exists; every argument and block (dynamic ones included) exists where it is used, as an
  argument or as a block as the schema says; every required argument and block is there.
- `check_values` reads what an evaluation configures: each value has a type the argument accepts
  (Terraform's conversions allowed: a number or bool where a string goes, a numeric string where a
  number goes), a block declared single appears once, and a required argument is not null.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .evaluate import META_ARGUMENTS, META_BLOCKS, Instance, Unknown
from .syntax import Block, Body, Module

Schema = dict[str, Any]
SECTIONS = {"resource": "resources", "data": "data_sources", "ephemeral": "ephemeral_resources"}


@dataclass(frozen=True)
class ProviderSchema:
    """The condensed schema of one provider version."""

    data: Schema

    @classmethod
    def load(cls, path: Path) -> ProviderSchema:
        return cls(json.loads(path.read_text()))

    @property
    def version(self) -> str:
        return str(self.data["version"])

    def of(self, mode: str, kind: str) -> Schema | None:
        found: Schema | None = self.data[SECTIONS[mode]].get(kind)
        return found

    def attribute_types(self, mode: str, kind: str) -> dict[str, Any] | None:
        schema = self.of(mode, kind)
        return None if schema is None else schema["attributes"]


# -- the module as written -------------------------------------------------------------------------
def check_structure(module: Module, schema: ProviderSchema) -> list[str]:
    """Problems with the types, arguments and blocks the module writes (empty: none)."""
    problems: list[str] = []
    for mode in SECTIONS:
        for (kind, name), block in module.resources(mode).items():
            found = schema.of(mode, kind)
            if found is None:
                problems.append(
                    f"{block.where}: {mode} type {kind} does not exist in hashicorp/aws {schema.version}"
                )
                continue
            problems += _check_body(block.body, found, f"{kind}.{name}", top=True)
    for block in module.of_type("provider"):
        if block.labels == ("aws",):
            problems += _check_body(block.body, schema.data["provider_config"], "provider aws", top=True)
    for call in module.of_type("module"):
        problems += _check_call(module, call, schema)
    return problems


def _check_call(module: Module, call: Block, schema: ProviderSchema) -> list[str]:
    """A local module call: its arguments are the child's variables, and the child is checked too."""
    from .syntax import Template, load_module

    source = call.body.attributes["source"].expr
    assert isinstance(source, Template) and isinstance(source.parts[0], str), f"{call.where}: a local source"
    child = load_module((module.directory / source.parts[0]).resolve())
    variables = child.variables
    problems = [f"{child.directory.name}/{p}" for p in check_structure(child, schema)]
    for name, attribute in call.body.attributes.items():
        if name not in variables and name not in META_ARGUMENTS | {"source", "providers"}:
            problems.append(
                f"{attribute.file}:{attribute.line}: module {call.labels[0]} has no variable {name!r}"
            )
    for name, variable in variables.items():
        if "default" not in variable.body.attributes and name not in call.body.attributes:
            problems.append(f"{call.where}: module {call.labels[0]}: the variable {name!r} is not set")
    return problems


def _check_body(body: Body, schema: Schema, path: str, *, top: bool = False) -> list[str]:
    problems: list[str] = []
    arguments: dict[str, Any] = schema.get("arguments", {})
    blocks: dict[str, Any] = schema.get("blocks", {})
    for name, attribute in body.attributes.items():
        where = f"{attribute.file}:{attribute.line}"
        if top and name in META_ARGUMENTS:
            continue
        if name in blocks:
            problems.append(f"{where}: {path}: {name} is a block, not an argument (write `{name} {{ ... }}`)")
        elif name not in arguments:
            problems.append(f"{where}: {path}: no argument {name!r} in the provider's schema")
    written: dict[str, list[Block]] = {}
    for block in body.blocks:
        if top and block.type in META_BLOCKS:
            continue
        kind = block.labels[0] if block.type == "dynamic" else block.type
        written.setdefault(kind, []).append(block)
        if kind in arguments:
            problems.append(
                f"{block.where}: {path}: {kind} is an argument, not a block (write `{kind} = ...`)"
            )
            continue
        if kind not in blocks:
            problems.append(f"{block.where}: {path}: no block {kind!r} in the provider's schema")
            continue
        content = block
        if block.type == "dynamic":
            contents = block.body.blocks_of("content")
            if len(contents) != 1 or "for_each" not in block.body.attributes:
                problems.append(
                    f"{block.where}: {path}: dynamic {kind!r} needs for_each and one content block"
                )
                continue
            content = contents[0]
        problems += _check_body(content.body, blocks[kind], f"{path}.{kind}")
    for name, spec in arguments.items():
        if spec["required"] and name not in body.attributes:
            problems.append(f"{_where(body)}: {path}: the required argument {name!r} is missing")
    for name, spec in blocks.items():
        if spec["required"] and name not in written:
            problems.append(f"{_where(body)}: {path}: the required block {name!r} is missing")
    return problems


def _where(body: Body) -> str:
    lines = [(a.file, a.line) for a in body.attributes.values()] + [(b.file, b.line) for b in body.blocks]
    file, line = min(lines) if lines else ("?", 0)
    return f"{file}:{line}"


# -- what an evaluation configures -----------------------------------------------------------------
def check_values(instances: dict[str, Instance], schema: ProviderSchema) -> list[str]:
    """Problems with the values an evaluation gives the arguments (empty: none)."""
    problems: list[str] = []
    for address, instance in instances.items():
        found = schema.of(instance.mode, instance.type)
        if found is not None:
            problems += _check_values(instance.values, found, f"{instance.block.where}: {address}")
    return problems


def _check_values(values: dict[str, Any], schema: Schema, path: str) -> list[str]:
    problems: list[str] = []
    arguments = schema.get("arguments", {})
    blocks = schema.get("blocks", {})
    for name, value in values.items():
        if name in blocks:
            spec = blocks[name]
            if spec["nesting"] == "single" and len(value) > 1:
                problems.append(f"{path}: {name} is a single block, written {len(value)} times")
            for item in value:
                problems += _check_values(item, spec, f"{path}.{name}")
        elif name in arguments:
            spec = arguments[name]
            if value is None:
                if spec["required"]:
                    problems.append(f"{path}: the required argument {name} is null")
                continue
            problem = mismatch(value, spec["type"])
            if problem:
                problems.append(f"{path}.{name}: {problem}")
    for name, spec in blocks.items():
        if spec["required"] and not values.get(name):
            problems.append(f"{path}: the required block {name} has no instance")
    return problems


def mismatch(value: Any, expected: Any) -> str | None:
    """Why `value` cannot become the schema type `expected` (None: it can)."""
    if expected == "any" or value is None:
        return None
    if isinstance(value, Unknown):
        return _type_mismatch(value.tf_type, expected, str(value))
    if isinstance(expected, str):
        return _primitive_mismatch(value, expected)
    kind, element = expected
    if kind == "list":
        if not isinstance(value, list):
            return f"{_show(value)} is not a list"
        for item in value:
            problem = mismatch(item, element)
            if problem:
                return f"an element: {problem}"
        return None
    if not isinstance(value, dict):
        return f"{_show(value)} is not a {'map' if kind == 'map' else 'object'}"
    if kind == "map":
        for key, item in value.items():
            problem = mismatch(item, element)
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    allowed = element.get("arguments", {})
    for key, item in value.items():
        if key not in allowed:
            return f"the object has {key!r}, which the schema does not know"
        problem = mismatch(item, allowed[key]["type"])
        if problem:
            return f".{key}: {problem}"
    return None


def _primitive_mismatch(value: Any, expected: str) -> str | None:
    if isinstance(value, list | dict):
        return f"{_show(value)} is not a {expected}"
    if expected == "string":
        return None  # a number or a bool becomes its text
    if expected == "number":
        if isinstance(value, bool):
            return f"{value!r} is not a number"
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return f"{value!r} is not a number"
        return None
    if expected == "bool" and not (isinstance(value, bool) or value in ("true", "false")):
        return f"{value!r} is not a bool"
    return None


def _type_mismatch(actual: Any, expected: Any, reference: str) -> str | None:
    """An unknown value's schema type against the type the argument takes."""
    if actual == "any" or expected == "any" or actual == expected:
        return None
    if isinstance(expected, str) and isinstance(actual, str):
        # Terraform converts any primitive to a string; a string becomes a number or bool when it
        # reads as one, which only the apply can tell: a reference of another primitive type is refused.
        if expected == "string":
            return None
        return f"{reference} is a {actual}, the argument takes a {expected}"
    if isinstance(expected, list) and isinstance(actual, list) and expected[0] == actual[0]:
        return _type_mismatch(actual[1], expected[1], reference)
    return f"{reference} is {actual}, the argument takes {expected}"


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) < 80 else text[:77] + "..."
