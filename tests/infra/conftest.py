"""Shared helpers for the offline checks of template.yaml: load, transform, resolve, lint, scan.

Nothing here talks to AWS. The SAM transform runs in-process (aws-sam-translator with its bundled
managed-policy map); cfn-lint and checkov run once per session each, over every template variant
the tests need, because both are slow to start.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
#: What `sam package` puts in place of `CodeUri: src/` before the transform runs.
PACKAGED_CODE_URI = "s3://deployment-artifacts/serverless-crud/code.zip"

Template = dict[str, Any]

#: Parameter sets the tests deploy "on paper": each name maps to the overrides of the defaults.
SCENARIOS: dict[str, dict[str, str]] = {
    "dev": {},
    "domain": {"DomainName": "api.example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ"},
    "domain-own-certificate": {
        "DomainName": "api.example.com",
        "HostedZoneId": "Z0123456789ABCDEFGHIJ",
        "CertificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890",
    },
    "domain-external-dns": {"DomainName": "api.example.com"},
    "ui": {"EnableUiHosting": "true"},
    "existing-table": {
        "ExistingTableName": "legacy-records",
        "ExistingTableStreamLabel": "2026-01-01T00:00:00.000",
        "PartitionKeyName": "pk",
        "SortKeyName": "1",
    },
    "prod": {
        "StageName": "prod",
        "ApiKeyRequired": "true",
        "AlarmEmail": "ops@example.com",
        "TracingMode": "Active",
        "ReservedConcurrency": "20",
        "LogRetentionInDays": "365",
        "AllowedOrigins": "https://app.example.com,https://admin.example.com",
    },
    "snapstart": {"SnapStart": "true"},
    "open": {"AuthMode": "none"},
    "open-with-key": {"AuthMode": "none", "ApiKeyRequired": "true"},
    "existing-pool": {
        "ExistingUserPoolArn": f"arn:aws:cognito-idp:{REGION}:{ACCOUNT_ID}:userpool/{REGION}_Ab12Cd34E",
        "AdvancedSecurityMode": "ENFORCED",
    },
    "threat-protection": {"AdvancedSecurityMode": "AUDIT", "MfaConfiguration": "ON", "StageName": "prod"},
    "snapstart-off": {"SnapStart": "false", "StageName": "prod", "TracingMode": "Active"},
    "everything": {
        "StageName": "prod",
        "DomainName": "api.example.com",
        "HostedZoneId": "Z0123456789ABCDEFGHIJ",
        "EnableUiHosting": "true",
        "ApiKeyRequired": "true",
        "AlarmEmail": "ops@example.com",
        "SnapStart": "true",
    },
}


# -- loading ---------------------------------------------------------------------------------------
def load_template(text: str) -> Template:
    """Parse a CloudFormation/SAM YAML (short-form tags become their long form)."""
    from samtranslator.yaml_helper import yaml_parse

    template: Template = yaml_parse(text)
    return template


def with_defaults(template: Template, overrides: dict[str, str]) -> Template:
    """A copy whose parameter defaults carry `overrides`: every tool then sees that deployment."""
    variant = copy.deepcopy(template)
    for name, value in overrides.items():
        spec = variant["Parameters"][name]
        # Keep the YAML type of the default (30, not "30"), as a template author would write it.
        spec["Default"] = int(value) if isinstance(spec.get("Default"), int) else value
    return variant


def parameter_values(template: Template) -> dict[str, Any]:
    """The parameter values of a deployment that overrides nothing, plus the pseudo parameters."""
    values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    values.update(
        {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": "serverless-crud-dev",
            "AWS::URLSuffix": "amazonaws.com",
        }
    )
    return values


# -- the SAM transform -----------------------------------------------------------------------------
def translate(template: Template) -> Template:
    """Run the SAM transform offline, as CloudFormation would after `sam package`."""
    import boto3
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    packaged = copy.deepcopy(template)
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = PACKAGED_CODE_URI
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in resource["Properties"]:
            # `sam package` uploads the file; the transform sees its S3 location.
            name = Path(resource["Properties"]["DefinitionUri"]).name
            resource["Properties"]["DefinitionUri"] = f"s3://packaged-artifacts/{name}"
    values = {k: v for k, v in parameter_values(packaged).items() if not k.startswith("AWS::")}
    translator = Translator(
        get_bundled_managed_policy_map("aws"),
        Parser(),
        boto_session=boto3.session.Session(region_name=REGION),
    )
    translated: Template = translator.translate(packaged, parameter_values=values)
    return translated


# -- what CloudFormation would create --------------------------------------------------------------
class _NoValue:
    """AWS::NoValue: the property disappears."""


NO_VALUE = _NoValue()


def _condition(name: str, template: Template, values: dict[str, Any], seen: dict[str, bool]) -> bool:
    if name not in seen:
        seen[name] = bool(_evaluate(template["Conditions"][name], template, values, seen))
    return seen[name]


def _evaluate(node: Any, template: Template, values: dict[str, Any], seen: dict[str, bool]) -> Any:
    """Resolve parameters, conditions, Fn::If and AWS::NoValue; leave every other intrinsic alone."""
    if isinstance(node, list):
        items = [_evaluate(item, template, values, seen) for item in node]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" and arg == "AWS::NoValue":
            return NO_VALUE
        if key == "Ref" and isinstance(arg, str) and arg in values:
            return values[arg]
        if key == "Condition" and isinstance(arg, str):
            return _condition(arg, template, values, seen)
        if key == "Fn::If":
            name, if_true, if_false = arg
            chosen = if_true if _condition(name, template, values, seen) else if_false
            return _evaluate(chosen, template, values, seen)
        if key == "Fn::Equals":
            left, right = (_evaluate(a, template, values, seen) for a in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not _evaluate(arg[0], template, values, seen)
        if key == "Fn::And":
            return all(_evaluate(a, template, values, seen) for a in arg)
        if key == "Fn::Or":
            return any(_evaluate(a, template, values, seen) for a in arg)
    resolved = {k: _evaluate(v, template, values, seen) for k, v in node.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def resolve(template: Template) -> Template:
    """The template as deployed with its defaults: false-condition resources and outputs removed."""
    values = parameter_values(template)
    seen: dict[str, bool] = {}
    result = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        kept = {}
        for logical_id, body in result.get(section, {}).items():
            condition = body.get("Condition")
            if condition is None or _condition(condition, template, values, seen):
                kept[logical_id] = _evaluate(body, template, values, seen)
        result[section] = kept
    return result


@dataclass
class Deployment:
    """One scenario: the SAM template with its defaults, the transform, and what gets created."""

    name: str
    sam: Template
    translated: Template
    resolved: Template

    @property
    def resources(self) -> dict[str, Any]:
        """The resolved resources, by logical id."""
        resources: dict[str, Any] = self.resolved["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, Any]:
        """The resolved resources of one type, by logical id."""
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def one(self, resource_type: str) -> dict[str, Any]:
        """The properties of the only resource of a type (asserting there is exactly one)."""
        found = self.of_type(resource_type)
        assert len(found) == 1, f"{self.name}: expected one {resource_type}, found {sorted(found)}"
        properties: dict[str, Any] = next(iter(found.values())).get("Properties", {})
        return properties


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sam_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` of template.yaml by the pinned SAM CLI (as a user runs it: the Makefile's recipe, no
    Docker, no AWS account); the folder holding each function's artifact and the built template."""
    from tests.support.processes import run

    from .sam import SAM, sam_environment

    work = tmp_path_factory.mktemp("sam")
    run(
        [
            str(SAM),
            "build",
            "--template",
            str(TEMPLATE_PATH),
            "--build-dir",
            str(work / "build"),
            "--cache-dir",
            str(work / "cache"),
        ],
        env=sam_environment(),
        timeout=600,
    )
    return work / "build"


@pytest.fixture(scope="session")
def template_text() -> str:
    """template.yaml as written."""
    return TEMPLATE_PATH.read_text()


@pytest.fixture(scope="session")
def sam_template(template_text: str) -> Template:
    """template.yaml, parsed."""
    return load_template(template_text)


@pytest.fixture(scope="session")
def deployments(sam_template: Template) -> Callable[[str], Deployment]:
    """Scenario name -> its Deployment, transformed once per session."""
    cache: dict[str, Deployment] = {}

    def get(name: str) -> Deployment:
        if name not in cache:
            sam = with_defaults(sam_template, SCENARIOS[name])
            translated = translate(sam)
            cache[name] = Deployment(name, sam, translated, resolve(translated))
        return cache[name]

    return get


@pytest.fixture(params=sorted(SCENARIOS))
def deployment(request: pytest.FixtureRequest, deployments: Callable[[str], Deployment]) -> Deployment:
    """Each scenario in turn."""
    return deployments(request.param)


def sub_text(value: Any) -> tuple[str, dict[str, Any]]:
    """The string and variables of an Fn::Sub (either form)."""
    assert isinstance(value, dict), f"not an Fn::Sub: {value!r}"
    assert "Fn::Sub" in value, f"not an Fn::Sub: {value!r}"
    sub = value["Fn::Sub"]
    if isinstance(sub, str):
        return sub, {}
    text, variables = sub
    return text, variables


def substitute(text: str, variables: dict[str, str]) -> str:
    """Replace ${Name} placeholders (no intrinsic resolution: tests pass plain strings)."""
    return re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), f"<{m.group(1)}>"), text)


def iter_statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every inline policy statement of an IAM role's properties."""
    for policy in role.get("Policies", []):
        statements = policy["PolicyDocument"]["Statement"]
        yield from statements if isinstance(statements, list) else [statements]


def dump_json(template: Template, path: Path) -> Path:
    """Write a template as JSON (what cfn-lint and checkov read) and return its path."""
    path.write_text(json.dumps(template, indent=1))
    return path


# -- the Terraform module, evaluated for each scenario ---------------------------------------------
@pytest.fixture(scope="session")
def terraform_schema() -> Any:
    """The AWS provider's schema (make install condenses it from the pinned bindings)."""
    from .terraform.provider_schema import ProviderSchema

    path = ROOT / "build" / "terraform" / "aws-provider-schema.json"
    assert path.exists(), "make install builds the provider's schema (build/terraform/)"
    return ProviderSchema.load(path)


@pytest.fixture(scope="session")
def scenario_evaluations(terraform_schema: Any) -> dict[str, Any]:
    """Scenario name -> deploy/terraform evaluated with that scenario's parameters as variables."""
    from .terraform.evaluate import Environment, Evaluation
    from .terraform.parameters import variables_for
    from .terraform.syntax import load_module

    module = load_module(ROOT / "deploy" / "terraform")
    environment = Environment(region=REGION, account_id=ACCOUNT_ID)
    return {
        name: Evaluation(
            module,
            {"name": "serverless-crud-dev", **variables_for(module, overrides)},
            environment,
            terraform_schema.attribute_types,
        )
        for name, overrides in SCENARIOS.items()
    }
