"""What a plan of the module would configure, for given variables, without Terraform.

Every resource, data source and ephemeral resource is expanded by its `count` or `for_each`, and each
instance's arguments and blocks (dynamic ones too) are evaluated: variables, locals, the functions
of the Terraform language the module uses, `templatefile` over the repository's files. What only an
apply knows — another resource's attribute — is an `Unknown`: a string reading `${address.attribute}`
(the form CloudFormation's `Fn::Sub` reads too), typed by the provider's schema when one is given.
The data sources that describe the account (partition, region, caller) answer from `environment`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .syntax import (
    Attribute,
    Binary,
    Block,
    Body,
    Call,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    Index,
    Literal,
    Module,
    Name,
    ObjectExpr,
    Splat,
    Template,
    TupleExpr,
    Unary,
    parse_expression,
)

META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
MODES = ("resource", "data", "ephemeral")


class EvaluationError(Exception):
    """The module cannot be evaluated as written (with where)."""


class LocatedError(EvaluationError):
    """An EvaluationError that names the file and line of the argument it happened in."""


class Unknown(str):
    """A value known after apply, written as the reference that yields it: `${aws_s3_bucket.x.arn}`."""

    tf_type: Any = "any"

    def __new__(cls, reference: str, tf_type: Any = "any") -> Unknown:
        made = super().__new__(cls, "${" + reference + "}")
        made.tf_type = tf_type
        return made

    @property
    def reference(self) -> str:
        return str(self)[2:-1]


@dataclass(frozen=True)
class InstanceRef:
    """A resource instance as an expression sees it: its attributes are unknown until apply."""

    mode: str
    type: str
    address: str  # `aws_s3_bucket.files`, `aws_sfn_state_machine.job["import"]` (count index dropped)
    attributes: dict[str, Any] | None  # the schema's readable attributes, when known


@dataclass
class Instance:
    """One planned instance: its address and its evaluated arguments and blocks."""

    mode: str
    type: str
    name: str
    key: int | str | None
    address: str
    values: dict[str, Any]
    block: Block

    @property
    def reference(self) -> str:
        """The address expressions use for it (count indexes dropped, for_each keys kept)."""
        return re.sub(r"\[\d+\]", "", self.address)


@dataclass
class Environment:
    """What the account-describing data sources answer (the pseudo parameters of CloudFormation)."""

    partition: str = "aws"
    region: str = "eu-west-1"
    account_id: str = "123456789012"
    dns_suffix: str = "amazonaws.com"

    def data(self, resource_type: str) -> dict[str, Any] | None:
        return {
            "aws_partition": {
                "partition": self.partition,
                "dns_suffix": self.dns_suffix,
                "id": self.partition,
            },
            "aws_region": {"region": self.region, "name": self.region, "id": self.region},
            "aws_caller_identity": {"account_id": self.account_id, "id": self.account_id},
        }.get(resource_type)


@dataclass
class Evaluation:
    """The module evaluated for one set of variables."""

    module: Module
    variables: dict[str, Any] = field(default_factory=dict)
    environment: Environment = field(default_factory=Environment)
    #: type -> readable attributes ({name: type}), per mode; from the provider schema.
    attribute_types: Callable[[str, str], dict[str, Any] | None] = lambda mode, kind: None
    #: Overrides of path.module / path.root (a copy of the module reading the original's files).
    paths: dict[str, str] = field(default_factory=dict)
    #: The address of this module within the root (`module.ui_hosting[0].`), empty for the root.
    prefix: str = ""

    def __post_init__(self) -> None:
        declared = self.module.variables
        unknown = set(self.variables) - set(declared)
        if unknown:
            raise EvaluationError(f"no such variable(s): {sorted(unknown)}")
        self._vars: dict[str, Any] = {}
        for name, block in declared.items():
            if name in self.variables:
                self._vars[name] = self.variables[name]
            elif "default" in block.body.attributes:
                self._vars[name] = self.expr(block.body.attributes["default"].expr, {})
            else:
                raise EvaluationError(f"{block.where}: variable {name} has no default and no value")
        self._locals: dict[str, Any] = {}
        self._evaluating: list[str] = []
        self._blocks = {mode: self.module.resources(mode) for mode in MODES}
        self._instances: dict[tuple[str, str, str], dict[Any, Instance]] = {}
        self._calls = {b.labels[0]: b for b in self.module.of_type("module")}
        self._children: dict[str, dict[Any, Evaluation]] = {}

    # -- the plan ----------------------------------------------------------------------------------
    def plan(self) -> dict[str, Instance]:
        """Every instance of every resource, data source and ephemeral resource, by address."""
        planned: dict[str, Instance] = {}
        for mode in MODES:
            for kind, name in self._blocks[mode]:
                for instance in self.instances(mode, kind, name).values():
                    planned[instance.address] = instance
        for name in self._calls:
            for child in self.children(name).values():
                planned.update(child.plan())
        return planned

    def children(self, name: str) -> dict[Any, Evaluation]:
        """The instances of a module call, each an evaluation of the called module."""
        if name not in self._children:
            from .syntax import load_module

            call = self._calls[name]
            source = call.body.attributes["source"].expr
            if not (isinstance(source, Template) and source.parts and isinstance(source.parts[0], str)):
                raise EvaluationError(f"{call.where}: module {name}: a local source path is read here")
            directory = (self.module.directory / str(source.parts[0])).resolve()
            self._enter(f"module.{name}", call.where)
            try:
                found: dict[Any, Evaluation] = {}
                for key, scope in self._keys(call):
                    inputs = self.body(call.body, scope, skip=META_ARGUMENTS | {"source", "providers"})
                    suffix = "" if key is None else f"[{key}]" if isinstance(key, int) else f'["{key}"]'
                    found[key] = Evaluation(
                        load_module(directory),
                        inputs,
                        self.environment,
                        self.attribute_types,
                        paths={"root": self.name("path", {})["root"]},
                        prefix=f"{self.prefix}module.{name}{suffix}.",
                    )
            finally:
                self._evaluating.pop()
            self._children[name] = found
        return self._children[name]

    def output(self, name: str) -> Any:
        block = self.module.outputs[name]
        return self.expr(block.body.attributes["value"].expr, {})

    def instances(self, mode: str, kind: str, name: str) -> dict[Any, Instance]:
        """The instances of one block: {None: it} alone, {0: .., 1: ..} by count, {key: ..} by for_each."""
        cache_key = (mode, kind, name)
        if cache_key in self._instances:
            return self._instances[cache_key]
        block = self._blocks[mode][(kind, name)]
        label = f"{mode} {kind}.{name}"
        self._enter(label, block.where)
        try:
            keys = self._keys(block)
            found: dict[Any, Instance] = {}
            prefix = self.prefix + ("" if mode == "resource" else f"{mode}.")
            for key, scope in keys:
                suffix = "" if key is None else f"[{key}]" if isinstance(key, int) else f'["{key}"]'
                values = self.body(block.body, scope, skip=META_ARGUMENTS)
                found[key] = Instance(mode, kind, name, key, f"{prefix}{kind}.{name}{suffix}", values, block)
        finally:
            self._evaluating.pop()
        self._instances[cache_key] = found
        return found

    def _keys(self, block: Block) -> list[tuple[Any, dict[str, Any]]]:
        attributes = block.body.attributes
        if "count" in attributes:
            count = self.expr(attributes["count"].expr, {})
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise EvaluationError(f"{block.where}: count is {count!r}, not a whole number")
            return [(i, {"count": {"index": i}}) for i in range(count)]
        if "for_each" in attributes:
            collection = self.expr(attributes["for_each"].expr, {})
            return [(key, {"each": {"key": key, "value": value}}) for key, value in _pairs(collection, block)]
        return [(None, {})]

    # -- bodies ------------------------------------------------------------------------------------
    def body(
        self, body: Body, scope: dict[str, Any], *, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """Arguments by name, and each block type's blocks as a list of their bodies."""
        values: dict[str, Any] = {}
        for name, attribute in body.attributes.items():
            if name not in skip:
                values[name] = self.expr(attribute.expr, scope, attribute)
        for block in body.blocks:
            if block.type in META_BLOCKS:
                continue
            if block.type == "dynamic":
                values.setdefault(block.labels[0], []).extend(self.dynamic(block, scope))
            else:
                values.setdefault(block.type, []).append(self.body(block.body, scope))
        return values

    def dynamic(self, block: Block, scope: dict[str, Any]) -> list[dict[str, Any]]:
        attributes = block.body.attributes
        iterator = block.labels[0]
        if "iterator" in attributes:
            target = attributes["iterator"].expr
            assert isinstance(target, Name), f"{block.where}: iterator must be a name"
            iterator = target.name
        collection = self.expr(attributes["for_each"].expr, scope)
        # A dynamic block iterates over any collection: a list's keys are its indexes.
        pairs = enumerate(collection) if isinstance(collection, list) else _pairs(collection, block)
        (content,) = block.body.blocks_of("content")
        return [
            self.body(content.body, {**scope, iterator: {"key": key, "value": value}}) for key, value in pairs
        ]

    # -- expressions -------------------------------------------------------------------------------
    def expr(self, expr: Expr, scope: dict[str, Any], where: Attribute | None = None) -> Any:
        try:
            return self._expr(expr, scope)
        except LocatedError:
            raise
        except Exception as error:
            if where is None:
                raise
            detail = str(error) if isinstance(error, EvaluationError) else f"{type(error).__name__}: {error}"
            raise LocatedError(f"{where.file}:{where.line} ({where.name}): {detail}") from error

    def _expr(self, expr: Expr, scope: dict[str, Any]) -> Any:
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Template):
            if len(expr.parts) == 1 and isinstance(expr.parts[0], Expr):
                return self._expr(expr.parts[0], scope)
            return "".join(p if isinstance(p, str) else _to_string(self._expr(p, scope)) for p in expr.parts)
        if isinstance(expr, Name):
            return self.name(expr.name, scope)
        if isinstance(expr, GetAttr):
            return _get(self._expr(expr.target, scope), expr.name, self)
        if isinstance(expr, Index):
            return _index(self._expr(expr.target, scope), self._expr(expr.key, scope))
        if isinstance(expr, Splat):
            target = self._expr(expr.target, scope)
            items = target if isinstance(target, list) else [] if target is None else [target]
            return [self._expr(expr.each, {**scope, "*": item}) for item in items]
        if isinstance(expr, Call):
            return self.call(expr, scope)
        if isinstance(expr, Conditional):
            condition = self._expr(expr.condition, scope)
            if not isinstance(condition, bool):
                raise EvaluationError(f"a condition is {condition!r}, not a known bool")
            return self._expr(expr.if_true if condition else expr.if_false, scope)
        if isinstance(expr, Binary):
            return _binary(expr.op, self._expr(expr.left, scope), self._expr(expr.right, scope))
        if isinstance(expr, Unary):
            operand = self._expr(expr.operand, scope)
            return (not operand) if expr.op == "!" else -operand
        if isinstance(expr, TupleExpr):
            return [self._expr(item, scope) for item in expr.items]
        if isinstance(expr, ObjectExpr):
            result: dict[str, Any] = {}
            for key, value in expr.items:
                name = key if isinstance(key, str) else _to_string(self._expr(key, scope))
                result[name] = self._expr(value, scope)
            return result
        if isinstance(expr, ForExpr):
            return self.for_expr(expr, scope)
        raise EvaluationError(f"cannot evaluate {expr!r}")

    def name(self, name: str, scope: dict[str, Any]) -> Any:
        if name in scope:
            return scope[name]
        if name == "var":
            return self._vars
        if name == "local":
            return _Locals(self)
        if name == "path":
            here = str(self.module.directory)
            return {"module": here, "root": here, "cwd": ".", **self.paths}
        if name == "terraform":
            return {"workspace": "default"}
        if name in ("data", "ephemeral"):
            return _Mode(self, name)
        if name == "module":
            return _Modules(self)
        if any(kind == name for kind, _ in self._blocks["resource"]):
            return _Type(self, "resource", name)
        raise EvaluationError(f"unknown name {name!r}")

    def local(self, name: str) -> Any:
        if name not in self._locals:
            attribute = self.module.locals.get(name)
            if attribute is None:
                raise EvaluationError(f"no such local: local.{name}")
            self._enter(f"local.{name}", f"{attribute.file}:{attribute.line}")
            try:
                self._locals[name] = self.expr(attribute.expr, {}, attribute)
            finally:
                self._evaluating.pop()
        return self._locals[name]

    def _enter(self, label: str, where: str) -> None:
        if label in self._evaluating:
            cycle = " -> ".join([*self._evaluating[self._evaluating.index(label) :], label])
            raise EvaluationError(f"{where}: a cycle: {cycle}")
        self._evaluating.append(label)

    def for_expr(self, expr: ForExpr, scope: dict[str, Any]) -> Any:
        collection = self._expr(expr.collection, scope)
        if isinstance(collection, Unknown):
            return Unknown(f"[for ... in {collection.reference}]")
        pairs = list(collection.items()) if isinstance(collection, dict) else list(enumerate(collection))
        values: list[Any] = []
        keyed: dict[str, Any] = {}
        for key, value in pairs:
            inner = {**scope, expr.value_var: value}
            if expr.key_var is not None:
                inner[expr.key_var] = key
            if expr.condition is not None and not self._expr(expr.condition, inner):
                continue
            if expr.key is None:
                values.append(self._expr(expr.value, inner))
                continue
            result_key = _to_string(self._expr(expr.key, inner))
            result_value = self._expr(expr.value, inner)
            if expr.grouping:
                keyed.setdefault(result_key, []).append(result_value)
            elif result_key in keyed:
                raise EvaluationError(f"a for expression makes the key {result_key!r} twice")
            else:
                keyed[result_key] = result_value
        return values if expr.key is None else keyed

    def call(self, call: Call, scope: dict[str, Any]) -> Any:
        if call.name in ("can", "try"):
            for argument in call.args:
                try:
                    value = self._expr(argument, scope)
                except Exception:  # what can() and try() exist for
                    if call.name == "can":
                        return False
                    continue
                return True if call.name == "can" else value
            if call.name == "can":
                return False
            raise EvaluationError("no argument of try() could be evaluated")
        args = [self._expr(a, scope) for a in call.args]
        if call.expand_last:
            args = [*args[:-1], *args[-1]]
        if call.name == "templatefile":
            return self.templatefile(*args)
        function = FUNCTIONS.get(call.name)
        if function is None:
            raise EvaluationError(f"the function {call.name}() is not implemented here (add it to FUNCTIONS)")
        return function(*args)

    def templatefile(self, path: str, variables: dict[str, Any]) -> str:
        text = Path(path).read_text()
        if "%{" in text.replace("%%{", ""):
            raise EvaluationError(f"{path}: template directives are not read here")

        def substitute(match: re.Match[str]) -> str:
            inner = parse_expression(match.group(1), path)
            return _to_string(self._expr(inner, dict(variables)))

        return re.sub(r"(?<!\$)\$\{([^}]*)\}", substitute, text).replace("$${", "${")

    def reference(self, mode: str, kind: str, name: str) -> Any:
        """What `aws_x.name` (or `data.aws_x.name`) is in an expression."""
        if (kind, name) not in self._blocks[mode]:
            raise EvaluationError(f"no such {mode}: {kind}.{name}")
        if mode == "data":
            answer = self.environment.data(kind)
            if answer is not None:
                return answer
        block = self._blocks[mode][(kind, name)]
        instances = self.instances(mode, kind, name)
        attributes = self.attribute_types(mode, kind)
        prefix = re.sub(r"\[\d+\]\.$", ".", self.prefix) + ("" if mode == "resource" else f"{mode}.")

        def ref(key: Any) -> InstanceRef:
            suffix = f'["{key}"]' if isinstance(key, str) else ""
            return InstanceRef(mode, kind, f"{prefix}{kind}.{name}{suffix}", attributes)

        if "count" in block.body.attributes:
            return [ref(key) for key in instances]
        if "for_each" in block.body.attributes:
            return {key: ref(key) for key in instances}
        return ref(None)


@dataclass
class _Modules:
    evaluation: Evaluation


@dataclass
class _Outputs:
    """A module instance as an expression sees it: its outputs."""

    evaluation: Evaluation


class _Locals:
    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation


@dataclass
class _Mode:
    evaluation: Evaluation
    mode: str


@dataclass
class _Type:
    evaluation: Evaluation
    mode: str
    kind: str


def _get(target: Any, name: str, evaluation: Evaluation) -> Any:
    if isinstance(target, _Locals):
        return evaluation.local(name)
    if isinstance(target, _Modules):
        if name not in evaluation._calls:
            raise EvaluationError(f"no such module: module.{name}")
        call = evaluation._calls[name]
        children = evaluation.children(name)
        if "count" in call.body.attributes:
            return [_Outputs(child) for child in children.values()]
        if "for_each" in call.body.attributes:
            return {key: _Outputs(child) for key, child in children.items()}
        return _Outputs(children[None])
    if isinstance(target, _Outputs):
        if name not in target.evaluation.module.outputs:
            raise EvaluationError(f"the module has no output {name!r}")
        return target.evaluation.output(name)
    if isinstance(target, _Mode):
        return _Type(evaluation, target.mode, name)
    if isinstance(target, _Type):
        return evaluation.reference(target.mode, target.kind, name)
    if isinstance(target, InstanceRef):
        if target.attributes is not None and name not in target.attributes:
            raise EvaluationError(f"{target.type} has no attribute {name!r} in the provider's schema")
        tf_type = "any" if target.attributes is None else target.attributes[name]
        return Unknown(f"{target.address}.{name}", tf_type)
    if isinstance(target, Unknown):
        return Unknown(f"{target.reference}.{name}")
    if isinstance(target, dict):
        if name not in target:
            raise EvaluationError(f"no attribute {name!r} (there are {sorted(target)})")
        return target[name]
    raise EvaluationError(f"cannot read .{name} of {target!r}")


def _index(target: Any, key: Any) -> Any:
    if isinstance(target, Unknown):
        return Unknown(f"{target.reference}[{json.dumps(key)}]")
    if isinstance(target, list):
        return target[int(key)]
    if isinstance(target, dict):
        return target[_to_string(key)]
    raise EvaluationError(f"cannot index {target!r} with {key!r}")


def _pairs(collection: Any, block: Block) -> Iterator[tuple[Any, Any]]:
    """for_each's keys and values: a map's entries, or a set of strings as key = value."""
    if isinstance(collection, dict):
        yield from collection.items()
    elif isinstance(collection, list):
        for item in collection:
            if not isinstance(item, str):
                raise EvaluationError(f"{block.where}: for_each over a list of non-strings ({item!r})")
            yield item, item
    elif isinstance(collection, Unknown):
        yield collection.reference, collection
    else:
        raise EvaluationError(f"{block.where}: for_each is {collection!r}")


def _binary(op: str, left: Any, right: Any) -> Any:
    if op in ("==", "!="):
        equal = (left == right and type(left) is type(right)) or (
            _number(left) and _number(right) and left == right
        )
        return equal if op == "==" else not equal
    if op == "&&":
        return bool(left) and bool(right)
    if op == "||":
        return bool(left) or bool(right)
    if not (_number(left) and _number(right)):
        raise EvaluationError(f"{left!r} {op} {right!r}: arithmetic needs numbers")
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "%": lambda a, b: a % b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    return _tidy_number(operations[op](left, right))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _tidy_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if _number(value):
        return str(_tidy_number(value))
    if value is None:
        raise EvaluationError("null cannot become a string")
    raise EvaluationError(f"{value!r} cannot become a string")


def _jsonencode(value: Any) -> str:
    # Terraform writes objects with their keys sorted and no spaces.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _one(values: list[Any]) -> Any:
    if len(values) > 1:
        raise EvaluationError(f"one() of {len(values)} elements")
    return values[0] if values else None


def _flatten(values: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        flat.extend(_flatten(value) if isinstance(value, list) else [value])
    return flat


def _merge(*maps: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in maps:
        if item is not None:
            merged.update(item)
    return merged


def _toset(values: list[Any]) -> list[Any]:
    unique: list[Any] = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return sorted(unique, key=_to_string) if all(isinstance(v, str) for v in unique) else unique


def _tonumber(value: Any) -> Any:
    if _number(value):
        return value
    number = float(value)
    return _tidy_number(number)


def _tobool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise EvaluationError(f"{value!r} is not a bool")


def _regex(pattern: str, text: str) -> Any:
    match = re.search(pattern, text)
    if match is None:
        raise EvaluationError(f"{text!r} does not match {pattern!r}")
    if match.groupdict():
        return match.groupdict()
    return list(match.groups()) if match.groups() else match.group(0)


def _format(spec: str, *args: Any) -> str:
    values = iter(args)

    def one(match: re.Match[str]) -> str:
        verb = match.group(1)
        if verb == "%":
            return "%"
        value = next(values)
        return str(int(value)) if verb == "d" else _to_string(value) if verb == "s" else json.dumps(value)

    return re.sub(r"%([sdv%])", one, spec)


def _file_hash(path: str, digest: Callable[[bytes], Any], encode: Callable[[Any], str]) -> str:
    file = Path(path)
    if not file.exists():
        # The package is built by `make package` before a plan; its hash is only known then.
        return Unknown(f"filebase64sha256({json.dumps(path)})", "string")
    return encode(digest(file.read_bytes()))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": _jsonencode,
    "jsondecode": json.loads,
    "file": lambda path: Path(path).read_text(),
    "filebase64sha256": lambda path: _file_hash(
        path, lambda b: hashlib.sha256(b).digest(), lambda d: base64.b64encode(d).decode()
    ),
    "sha1": lambda text: hashlib.sha1(text.encode()).hexdigest(),  # noqa: S324 - Terraform's sha1()
    "md5": lambda text: hashlib.md5(text.encode()).hexdigest(),  # noqa: S324 - Terraform's md5()
    "join": lambda separator, values: separator.join(_to_string(v) for v in values),
    "split": lambda separator, text: text.split(separator),
    "element": lambda values, index: values[int(index) % len(values)],
    "concat": lambda *lists: [item for values in lists for item in values],
    "merge": _merge,
    "length": len,
    "lower": lambda text: text.lower(),
    "upper": lambda text: text.upper(),
    "replace": lambda text, old, new: text.replace(old, new),
    "one": _one,
    "flatten": _flatten,
    "keys": lambda mapping: sorted(mapping),
    "values": lambda mapping: [mapping[k] for k in sorted(mapping)],
    "lookup": lambda mapping, key, *default: mapping.get(key, *default) if default else mapping[key],
    "contains": lambda values, value: value in values,
    "alltrue": lambda values: all(values),
    "anytrue": lambda values: any(values),
    "toset": _toset,
    "tolist": list,
    "tomap": dict,
    "tostring": _to_string,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "coalesce": lambda *values: next(v for v in values if v not in (None, "")),
    "format": _format,
    "regex": _regex,
    "substr": lambda text, offset, length: text[offset:] if length == -1 else text[offset : offset + length],
    "sort": lambda values: sorted(values, key=_to_string),
    "distinct": _toset,
    "compact": lambda values: [v for v in values if v not in (None, "")],
    "startswith": lambda text, prefix: text.startswith(prefix),
    "endswith": lambda text, suffix: text.endswith(suffix),
    "trimspace": lambda text: text.strip(),
    "min": min,
    "max": max,
    "abs": abs,
}
