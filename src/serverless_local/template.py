"""Reading template.yaml: CloudFormation short-form tags parsed, intrinsics resolved locally.

Parameters take their defaults (or overrides), conditions are evaluated, `Ref` to a resource
becomes a local name (a table's logical id names the local table).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_NO_VALUE = object()
#: CloudFormation resolves `{{resolve:ssm:...}}` and `{{resolve:secretsmanager:...}}` at deploy time.
DYNAMIC_REFERENCE = "{{resolve:"
_REFERENCE = re.compile(r"\{\{resolve:([^}]+)\}\}")
#: The stream label of a template's table (`!GetAtt Table.StreamArn`), kept across restarts.
TEMPLATE_STREAM_LABEL = "1970-01-01T00:00:00.000"
#: `AWS::StackName` unless the server is given one (`serve --stack-name`).
DEFAULT_STACK_NAME = "serverless-local"
_PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


def function_arn(name: str, qualifier: str | None = None) -> str:
    """The local ARN of the function `name` (with `:qualifier`: an alias or version)."""
    arn = f"arn:aws:lambda:{_PSEUDO['AWS::Region']}:{_PSEUDO['AWS::AccountId']}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


class TemplateError(Exception):
    """The template cannot be read or understood; the message names the resource."""


class Unresolvable(TemplateError):
    """A value that only AWS can provide (a dynamic reference, an attribute of a resource not run here)."""


#: libyaml's parser when PyYAML was built with it (ten times faster on a large template).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """SafeLoader that turns `!Ref x` into `{"Ref": x}`, `!Sub s` into `{"Fn::Sub": s}`, etc."""


def _construct_tag(loader: _Loader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else "Condition" if suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (YAML or JSON) with its short-form tags."""
    try:
        document = yaml.load(Path(path).read_text(), Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except OSError as error:
        raise TemplateError(f"cannot read the template {path}: {error.strerror}") from None
    except yaml.MarkedYAMLError as error:
        where = f" at line {error.problem_mark.line + 1}" if error.problem_mark else ""
        raise TemplateError(f"{path} is not valid YAML{where}: {error.problem}") from None
    except yaml.YAMLError as error:
        raise TemplateError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources)")
    return document


#: A resource's value at run time: (logical id, resource, attribute or None for Ref) -> value.
Provider = Callable[[str, Mapping[str, Any], str | None], Any]


def _parameter_problem(name: str, spec: Mapping[str, Any], value: str) -> str | None:
    """Why CloudFormation would refuse `value` for parameter `name`, or None."""
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"parameter {name} must be a number (it is {value!r})"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"parameter {name} must be at least {spec['MinValue']} (it is {value})"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"parameter {name} must be at most {spec['MaxValue']} (it is {value})"
    allowed = spec.get("AllowedValues")
    if allowed and value not in [str(v) for v in allowed]:
        return f"parameter {name} must be one of {', '.join(map(str, allowed))} (it is {value!r})"
    pattern = spec.get("AllowedPattern")
    if pattern and re.fullmatch(pattern, value) is None:
        rule = spec.get("ConstraintDescription") or f"the pattern {pattern}"
        return f"parameter {name} must be {rule} (it is {value!r})"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return f"parameter {name} must be at least {spec['MinLength']} characters long"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return f"parameter {name} must be at most {spec['MaxLength']} characters long"
    return None


def check_parameters(template: Mapping[str, Any], overrides: Mapping[str, Any]) -> None:
    """Refuse overrides `sam deploy` would refuse: an unknown name, or a value the parameter's
    Type, AllowedValues, AllowedPattern, MinValue/MaxValue or MinLength/MaxLength excludes."""
    specs = {n: s for n, s in (template.get("Parameters") or {}).items() if isinstance(s, dict)}
    for name, value in overrides.items():
        if name not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise TemplateError(f"the template has no parameter {name} (its parameters: {known})")
        problem = _parameter_problem(name, specs[name], str(value))
        if problem:
            raise TemplateError(problem)


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameter values and local resource names."""

    template: Mapping[str, Any]
    parameters: dict[str, Any]
    #: By resource type: values only known once a service has created the resource (generated ids).
    providers: dict[str, Provider] = field(default_factory=dict)
    #: Dynamic references by service (`secretsmanager`, `ssm`...): the reference's parts after the
    #: service -> its value (Unresolvable when the local AWS does not hold it).
    dynamic: dict[str, Callable[[list[str]], str]] = field(default_factory=dict)
    #: Parameters with no `Default` and no override -> the value given them locally.
    stand_ins: dict[str, Any] = field(default_factory=dict)
    #: `AWS::StackName`.
    stack_name: str = DEFAULT_STACK_NAME

    @classmethod
    def for_template(
        cls, template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> Resolver:
        """Parameters take their defaults, then `overrides` (checked as CloudFormation checks them);
        one with neither gets a local stand-in (`stand_ins`: the first of its `AllowedValues`, its
        `MinValue` or 0 for a number, else its name in lower case, which is a valid bucket, queue or
        table name) where AWS would refuse to deploy."""
        check_parameters(template, overrides or {})
        parameters: dict[str, Any] = {}
        stand_ins: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if not isinstance(spec, dict):
                continue
            if "Default" in spec:
                parameters[name] = spec["Default"]
            elif name not in (overrides or {}):
                stand_ins[name] = parameters[name] = _stand_in(name, spec)
        parameters.update(overrides or {})
        resolver = cls(template, parameters)
        resolver.stand_ins = stand_ins
        return resolver

    def condition(self, name: str) -> bool:
        """The value of a named condition."""
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"condition {name!r} is not defined")
        return bool(self.resolve(conditions[name]))

    def resource_enabled(self, logical_id: str) -> bool:
        """Whether a resource exists under the current conditions."""
        resource = self.template["Resources"][logical_id]
        return "Condition" not in resource or self.condition(resource["Condition"])

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`; `AWS::NoValue` entries are dropped; dynamic
        references (`{{resolve:...}}`) the local AWS holds are replaced by their values."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not _NO_VALUE]
        if isinstance(value, str):
            return self.dynamic_references(value) if DYNAMIC_REFERENCE in value else value
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def dynamic_references(self, text: str) -> str:
        """`text` with each `{{resolve:service:...}}` of a service registered in `dynamic` replaced
        (the others left as they are)."""

        def replace(match: re.Match[str]) -> str:
            service, *parts = match.group(1).split(":")
            provider = self.dynamic.get(service)
            if provider is None:
                return match.group(0)
            try:
                return provider(parts)
            except Unresolvable:
                return match.group(0)

        return _REFERENCE.sub(replace, text)

    def conditional(self, value: Any) -> Any:
        """`value` with only its `Fn::If`s decided (and `AWS::NoValue` dropped): every other intrinsic is
        kept as written, for whoever resolves it once the resources it names exist."""
        if isinstance(value, list):
            return [v for v in (self.conditional(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Fn::If":
                name, when_true, when_false = argument
                return self.conditional(when_true if self.condition(name) else when_false)
            if key == "Ref" and argument == "AWS::NoValue":
                return _NO_VALUE
        chosen = {k: self.conditional(v) for k, v in value.items()}
        return {k: v for k, v in chosen.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in _PSEUDO:
            return _PSEUDO[name]
        if name == "AWS::StackName":
            return self.stack_name
        if name in self.parameters:
            return self.parameters[name]
        resource = self.template["Resources"].get(name)
        if resource is not None:
            kind = resource.get("Type") if isinstance(resource, dict) else None
            if kind in self.providers:
                return self.providers[kind](name, resource, None)
            if kind in TABLE_TYPES:
                return self._table_name(name, resource)
            if kind in FUNCTION_TYPES:
                return self._function_name(name, resource)
            return name  # a resource's local name is its logical id
        published = self._published(name)
        if published is not None:
            return published
        raise TemplateError(f"Ref to unknown name {name!r}")

    def _published(self, name: str) -> str | None:
        """What SAM's `AutoPublishAlias` adds: `Fn.Alias` and `Fn.Version` (and the resources it makes,
        `FnAlias<alias>` and `FnVersion<hash>`), as ARNs of the function with the alias or version "1"."""
        resources = self.template["Resources"]
        for logical_id, resource in resources.items():
            if not isinstance(resource, dict) or resource.get("Type") not in FUNCTION_TYPES:
                continue
            alias = (resource.get("Properties") or {}).get("AutoPublishAlias")
            if alias is None:
                continue
            alias = str(self.resolve(alias))
            function = self._function_name(logical_id, resource)
            if name in (f"{logical_id}.Alias", f"{logical_id}Alias{alias}"):
                return function_arn(function, alias)
            if name == f"{logical_id}.Version" or (
                name.startswith(f"{logical_id}Version") and name != logical_id
            ):
                return function_arn(function, "1")
        return None

    def _intrinsic(self, key: str, argument: Any) -> Any:
        if key == "Ref":
            return self._ref(argument)
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(argument[0])
        if key == "Fn::And":
            return all(self.resolve(a) for a in argument)
        if key == "Fn::Or":
            return any(self.resolve(a) for a in argument)
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::Join":
            separator, items = argument
            return separator.join(str(i) for i in self.resolve(items))
        if key == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if key == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if key == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._get_att(logical_id, attribute)
        if key == "Fn::FindInMap":
            map_name, top, second = (self.resolve(a) for a in argument)
            return self.template["Mappings"][map_name][top][second]
        if key == "Fn::Base64":
            return base64.b64encode(str(self.resolve(argument)).encode()).decode()
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument), separators=(",", ":"))
        if key == "Fn::Length":
            return len(self.resolve(argument))
        raise Unresolvable(f"the intrinsic function {key} has no local value")

    def _table_name(self, logical_id: str, resource: Mapping[str, Any]) -> str:
        """A table's name: its TableName if the template gives one, else its logical id."""
        return str(self.resolve((resource.get("Properties") or {}).get("TableName")) or logical_id)

    def _function_name(self, logical_id: str, resource: Mapping[str, Any]) -> str:
        """A function's name: its FunctionName if the template gives one, else its logical id."""
        return str(self.resolve((resource.get("Properties") or {}).get("FunctionName")) or logical_id)

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self.template["Resources"].get(logical_id) or {}
        if resource.get("Type") in self.providers:
            return self.providers[resource["Type"]](logical_id, resource, attribute)
        if resource.get("Type") in FUNCTION_TYPES and attribute == "Arn":
            return function_arn(self._function_name(logical_id, resource))
        if resource.get("Type") in TABLE_TYPES:
            name = self._table_name(logical_id, resource)
            arn = f"arn:aws:dynamodb:{_PSEUDO['AWS::Region']}:{_PSEUDO['AWS::AccountId']}:table/{name}"
            if attribute == "Arn":
                return arn
            if attribute == "StreamArn":
                return f"{arn}/stream/{TEMPLATE_STREAM_LABEL}"
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        local = {k: self.resolve(v) for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name:
                return str(self._intrinsic("Fn::GetAtt", name.split(".", 1)))
            return str(self._ref(name))

        substituted = re.sub(r"\$\{([^}]+)\}", substitute, text)
        return self.dynamic_references(substituted) if DYNAMIC_REFERENCE in substituted else substituted


TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
FUNCTION_TYPES = ("AWS::Serverless::Function",)


def table_definitions(
    template: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
) -> dict[str, dict[str, Any]]:
    """`CreateTable` parameters of every table the template declares, by logical id (= local name)."""
    resolver = Resolver.for_template(template, overrides)
    resolver.stack_name = stack_name
    tables = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") not in TABLE_TYPES or not resolver.resource_enabled(logical_id):
            continue
        properties = resolver.resolve(resource.get("Properties") or {})
        try:
            tables[logical_id] = _create_table_params(logical_id, resource["Type"], properties)
        except (KeyError, TypeError, ValueError) as error:
            raise TemplateError(f"table {logical_id}: cannot read its definition ({error!r})") from None
    return tables


def _create_table_params(logical_id: str, kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    name = properties.get("TableName") or logical_id
    if kind == "AWS::Serverless::SimpleTable":
        key = properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        kind_of = {"String": "S", "Number": "N", "Binary": "B"}[key["Type"]]
        return {
            "TableName": name,
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": kind_of}],
            "BillingMode": "PAY_PER_REQUEST",
        }
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if params["BillingMode"] == "PROVISIONED":
        params["ProvisionedThroughput"] = properties.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    stream = properties.get("StreamSpecification")
    if isinstance(stream, dict) and stream.get("StreamViewType"):
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(index_kind):
            params[index_kind] = [
                {
                    k: v
                    for k, v in index.items()
                    if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                }
                for index in properties[index_kind]
            ]
    return params


def _stand_in(name: str, spec: Mapping[str, Any]) -> Any:
    """A value for a parameter the template leaves to the deployer (see `Resolver.for_template`)."""
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and allowed:
        return allowed[0]
    if spec.get("Type") == "Number":
        return spec.get("MinValue", 0)
    return name.lower()
