"""The Terraform module, checked offline: parsed, in terraform fmt's layout, checkov-clean, and every
resource written as the AWS provider's schema (of the pinned version) says — each check also shown
to catch a broken copy."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT
from .terraform.evaluate import Evaluation, EvaluationError
from .terraform.provider_schema import ProviderSchema, check_structure, check_values
from .terraform.syntax import (
    HclError,
    Module,
    bare_interpolation,
    load_module,
    parse_text,
    unquoted_type_keyword,
)

MODULE = ROOT / "deploy" / "terraform"
HCL_TOOLS = ROOT / "tests" / "infra" / "terraform" / "hcl_tools.cjs"


def tf_files() -> list[Path]:
    return sorted([*MODULE.glob("*.tf"), *MODULE.glob("modules/*/*.tf"), *MODULE.glob("examples/*/*.tf")])


def hcl_tools(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """HashiCorp's parser and formatter over files: {path: {"error", "formatted"}}."""
    result = subprocess.run(
        ["node", str(HCL_TOOLS), *map(str, paths)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, dict[str, Any]] = json.loads(result.stdout)
    return outcome


@pytest.fixture(scope="module")
def hashicorp() -> dict[str, dict[str, Any]]:
    return hcl_tools(tf_files())


@pytest.fixture(scope="module")
def module() -> Module:
    return load_module(MODULE)


@pytest.fixture(scope="module")
def schema(terraform_schema: ProviderSchema) -> ProviderSchema:
    """The AWS provider's schema (conftest: built by make install)."""
    return terraform_schema


# -- syntax and layout -----------------------------------------------------------------------------
def test_every_file_parses_with_terraforms_own_parser(hashicorp: dict[str, dict[str, Any]]) -> None:
    assert len(hashicorp) >= 12
    assert {path: outcome["error"] for path, outcome in hashicorp.items() if outcome["error"]} == {}


def test_every_file_parses_with_hcl2() -> None:
    import hcl2

    for path in tf_files():
        parsed = hcl2.loads(path.read_text())
        assert parsed, path


def test_layout_is_terraform_fmts(hashicorp: dict[str, dict[str, Any]]) -> None:
    """hclwrite's layout (what `terraform fmt` writes), and fmt's own rewrites on top of it."""
    unformatted = [
        path for path, outcome in hashicorp.items() if outcome["formatted"] != Path(path).read_text()
    ]
    assert unformatted == [], "run `make terraform-fmt`"
    for path in tf_files():
        assert fmt_rewrites(path.read_text(), path.name) == [], path


def fmt_rewrites(text: str, name: str) -> list[str]:
    """What `terraform fmt` changes beyond hclwrite's layout (internal/command/fmt.go's formatBody):
    interpolation-only strings unwrapped, legacy variable types rewritten, block labels quoted."""
    found: list[str] = []

    def walk(items: list[Any], in_variable: bool) -> None:
        for item in items:
            if hasattr(item, "body"):
                if item.bare_labels:
                    found.append(f"{name}:{item.line}: unquoted label(s) {item.bare_labels}")
                walk([*item.body.attributes.values(), *item.body.blocks], item.type == "variable")
            elif in_variable and item.name == "type" and unquoted_type_keyword(item.expr):
                found.append(f"{name}:{item.line}: variable type {unquoted_type_keyword(item.expr)}")
            elif bare_interpolation(item.expr):
                found.append(f'{name}:{item.line}: {item.name} = "${{...}}" (write the expression alone)')

    walk(parse_text(text, name), False)
    return found


def test_the_layout_check_catches_what_fmt_would_change(tmp_path: Path) -> None:
    misaligned = tmp_path / "misaligned.tf"
    misaligned.write_text('resource "aws_sns_topic" "a" {\n  name = "x"\n  display_name = "y"\n}\n')
    indented = tmp_path / "indented.tf"
    indented.write_text('resource "aws_sns_topic" "a" {\n    name = "x"\n}\n')
    fine = tmp_path / "fine.tf"
    fine.write_text('resource "aws_sns_topic" "a" {\n  name         = "x"\n  display_name = "y"\n}\n')
    outcome = hcl_tools([misaligned, indented, fine])
    assert [Path(p).name for p, o in outcome.items() if o["formatted"] != Path(p).read_text()] == [
        "misaligned.tf",
        "indented.tf",
    ]
    rewrites = fmt_rewrites(
        'variable "a" {\n  type = "string"\n}\nresource aws_sns_topic b {\n  name = "${var.a}"\n}\n', "x.tf"
    )
    assert [re.sub(r"^x\.tf:\d+: ", "", r).split(" ")[0] for r in rewrites] == [
        "variable",
        "unquoted",
        "name",
    ]


def test_hashicorps_parser_reports_a_syntax_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tf"
    broken.write_text('resource "aws_sns_topic" "a" {\n  name = [1, 2\n}\n')
    (outcome,) = hcl_tools([broken]).values()
    assert "broken.tf:3" in outcome["error"]
    with pytest.raises(HclError):
        parse_text(broken.read_text(), "broken.tf")


# -- checkov ---------------------------------------------------------------------------------------
_SKIP = re.compile(r"#checkov:skip=(?P<id>\w+):(?P<reason>.*)")


def _checkov(directory: Path) -> Any:
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.runner import Runner

    return Runner().run(root_folder=str(directory), runner_filter=RunnerFilter(framework=["terraform"]))


def _unindexed(address: str) -> str:
    """An address without its count indexes and for_each keys (checkov names instances either way)."""
    return re.sub(r'\[(\d+|"[^"]*")\]', "", address)


#: Scenarios whose counts are written into the copies checkov scans: every optional resource exists
#: in one of them (checkov silently passes over a resource whose `count` it cannot work out).
_CHECKOV_SCENARIOS = ("everything", "open", "existing-table")


def _rendered_copy(source: Path, evaluation: Evaluation, target: Path) -> Path:
    """A copy of the module with each `count = <expression>` replaced by the count it evaluates to."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("examples"))
    module = evaluation.module
    edits: dict[str, dict[int, int]] = {}
    for mode in ("resource", "data"):
        for (kind, name), block in module.resources(mode).items():
            if "count" in block.body.attributes:
                count = len(evaluation.instances(mode, kind, name))
                edits.setdefault(block.file, {})[block.body.attributes["count"].line] = count
    for call in module.of_type("module"):
        if "count" in call.body.attributes:
            edits.setdefault(call.file, {})[call.body.attributes["count"].line] = len(
                evaluation.children(call.labels[0])
            )
    for file, lines in edits.items():
        path = target / file
        text = path.read_text().splitlines(keepends=True)
        for line, count in lines.items():
            assert text[line - 1].lstrip().startswith("count"), (file, line)
            text[line - 1] = f"  count = {count}\n"
        path.write_text("".join(text))
    return target


@pytest.fixture(scope="module")
def checkov_reports(
    tmp_path_factory: pytest.TempPathFactory, scenario_evaluations: dict[str, Evaluation]
) -> dict[str, Any]:
    """checkov over the module as written and over its copies rendered for some scenarios."""
    reports = {"as written": _checkov(MODULE)}
    for name in _CHECKOV_SCENARIOS:
        folder = tmp_path_factory.mktemp(f"checkov-{name}") / "terraform"
        reports[name] = _checkov(_rendered_copy(MODULE, scenario_evaluations[name], folder))
    return reports


@pytest.mark.parametrize("variant", ["as written", *_CHECKOV_SCENARIOS])
def test_checkov_finds_no_failed_check(checkov_reports: dict[str, Any], variant: str) -> None:
    report = checkov_reports[variant]
    assert len(report.passed_checks) >= 50  # a module checkov could not read passes nothing
    assert report.parsing_errors == []
    assert [(c.check_id, c.resource) for c in report.failed_checks] == []


def test_checkov_scans_every_planned_resource(
    checkov_reports: dict[str, Any], scenario_evaluations: dict[str, Evaluation]
) -> None:
    """Each resource of a type checkov has checks for is scanned in one variant at least (checkov
    passes silently over what it cannot render: a count it cannot evaluate, some modules' instances)."""
    from checkov.terraform.checks.resource.registry import resource_registry

    scanned = {
        _unindexed(c.resource)
        for report in checkov_reports.values()
        for c in [*report.passed_checks, *report.skipped_checks, *report.failed_checks]
    }
    planned = {
        _unindexed(i.address)
        for evaluation in scenario_evaluations.values()
        for i in evaluation.plan().values()
        if i.mode == "resource"
    }
    checked = {a for a in planned if resource_registry.get_checks(a.split(".")[-2])}
    assert len(checked) >= 30
    assert checked - scanned == set()


def _declared_skips() -> dict[tuple[str, str], str]:
    declared: dict[tuple[str, str], str] = {}
    for path in [*MODULE.glob("*.tf"), *MODULE.glob("modules/*/*.tf")]:
        resource = None
        for line in path.read_text().splitlines():
            header = re.match(r'resource "(\w+)" "(\w+)"', line)
            if header:
                resource = f"{header.group(1)}.{header.group(2)}"
            skip = _SKIP.search(line)
            if skip:
                assert resource is not None, f"{path.name}: a skip outside any resource"
                declared[(resource, skip.group("id"))] = skip.group("reason").strip()
    return declared


def test_every_checkov_skip_is_justified_and_used(checkov_reports: dict[str, Any]) -> None:
    declared = _declared_skips()
    assert declared
    for (resource, check), reason in declared.items():
        assert len(reason.split()) >= 8, f"{resource} skips {check} without a real justification"
    used = {
        (".".join(_unindexed(c.resource).split(".")[-2:]), c.check_id)
        for report in checkov_reports.values()
        for c in report.skipped_checks
    }
    assert set(declared) == used


def test_checkov_catches_a_broken_module(tmp_path: Path) -> None:
    broken = tmp_path / "terraform"
    shutil.copytree(MODULE, broken, ignore=shutil.ignore_patterns("examples"))
    tables = broken / "tables.tf"
    text = tables.read_text()
    text = text.replace("  point_in_time_recovery {\n    enabled = true\n  }\n", "", 1)
    tables.write_text(text)
    functions = broken / "functions.tf"
    functions.write_text(
        functions.read_text().replace("retention_in_days = var.log_retention_in_days", "", 1)
    )
    rendered = _rendered_copy(
        broken, Evaluation(load_module(broken), paths={"module": str(MODULE)}), tmp_path / "rendered"
    )
    failed = {(c.check_id, re.sub(r"\[.*\]$", "", c.resource)) for c in _checkov(rendered).failed_checks}
    assert ("CKV_AWS_28", "aws_dynamodb_table.records") in failed
    assert ("CKV_AWS_66", "aws_cloudwatch_log_group.records_function") in failed


# -- the provider's schema -------------------------------------------------------------------------
def test_the_schema_is_the_pinned_providers(schema: ProviderSchema, module: Module) -> None:
    pin = (ROOT / "requirements" / "terraform-provider.txt").read_text()
    (package,) = re.findall(r"^(cdktn-provider-aws)==(\S+)", pin, re.MULTILINE)
    assert schema.data["bindings"] == " ".join(package)
    (terraform,) = module.of_type("terraform")
    (providers,) = terraform.body.blocks_of("required_providers")
    evaluation = Evaluation(module)
    aws = evaluation.expr(providers.body.attributes["aws"].expr, {})
    assert aws["source"] == "hashicorp/aws"
    assert f">= {schema.version}," in aws["version"], (
        "the module must require the version it is checked against"
    )
    assert len(schema.data["resources"]) > 1000 and len(schema.data["data_sources"]) > 400


def test_every_block_and_argument_is_in_the_schema(module: Module, schema: ProviderSchema) -> None:
    assert check_structure(module, schema) == []


def test_the_structure_check_catches_mistakes(schema: ProviderSchema) -> None:
    broken = Module(
        MODULE,
        [
            block
            for item in parse_text(
                'resource "aws_dynamodb_table" "t" {\n  billing_mod = "PAY_PER_REQUEST"\n'
                '  point_in_time_recovery = { enabled = true }\n  hash_key = "id"\n'
                '  name = "t"\n  ttl = { attribute_name = "x" }\n}\n'
                'resource "aws_lambda_function" "f" {\n  role = "r"\n'
                "  environment {\n    variable = {}\n  }\n}\n"
                'resource "aws_no_such_thing" "x" {}\n',
                "broken.tf",
            )
            for block in [item]
        ],
    )
    problems = "\n".join(check_structure(broken, schema))
    assert "no argument 'billing_mod'" in problems
    assert "point_in_time_recovery is a block, not an argument" in problems
    assert "ttl is a block" in problems
    assert "the required argument 'function_name' is missing" in problems
    assert "no argument 'variable'" in problems
    assert "aws_no_such_thing does not exist" in problems


def test_values_have_the_types_the_schema_takes(
    scenario_evaluations: dict[str, Evaluation], schema: ProviderSchema
) -> None:
    for name, evaluation in scenario_evaluations.items():
        assert check_values(evaluation.plan(), schema) == [], name


def test_the_value_check_catches_mistakes(module: Module, schema: ProviderSchema, tmp_path: Path) -> None:
    broken = tmp_path / "terraform"
    shutil.copytree(MODULE, broken, ignore=shutil.ignore_patterns("examples"))
    for name in ("statemachines", "openapi"):
        (tmp_path.parent / name).mkdir(exist_ok=True)
    functions = broken / "functions.tf"
    text = functions.read_text()
    text = text.replace("memory_size      = 512", 'memory_size      = "lots"', 1)
    text = text.replace("timeout          = 900", "timeout          = aws_s3_bucket.files.arn", 1)
    text = text.replace('architectures    = ["arm64"]', 'architectures    = "arm64"', 1)
    functions.write_text(text)
    evaluation = Evaluation(
        load_module(broken), attribute_types=schema.attribute_types, paths={"module": str(MODULE)}
    )
    problems = "\n".join(check_values(evaluation.plan(), schema))
    assert "memory_size: 'lots' is not a number" in problems
    assert "timeout: ${aws_s3_bucket.files.arn} is a string, the argument takes a number" in problems
    assert 'architectures: "arm64" is not a list' in problems
    functions.write_text(
        text.replace(
            "log_group  = aws_cloudwatch_log_group.tasks_function.name",
            "log_group  = aws_cloudwatch_log_group.tasks_function.nam",
        )
    )
    with pytest.raises(EvaluationError, match="has no attribute 'nam'"):
        Evaluation(
            load_module(broken), attribute_types=schema.attribute_types, paths={"module": str(MODULE)}
        ).plan()


# -- the example root ------------------------------------------------------------------------------
def test_the_example_root_deploys_the_module(schema: ProviderSchema) -> None:
    example = load_module(MODULE / "examples" / "complete")
    assert check_structure(example, schema) == []
    evaluation = Evaluation(example, attribute_types=schema.attribute_types)
    plan = evaluation.plan()
    assert "module.serverless_crud.aws_lambda_function.records" in plan
    assert check_values(plan, schema) == []
    assert evaluation.output("api_url").startswith(
        "https://${module.serverless_crud.aws_api_gateway_rest_api"
    )
    zip_path = plan["module.serverless_crud.aws_lambda_function.records"].values["filename"]
    assert Path(zip_path).resolve() == ROOT / "build" / "function.zip"  # what `make package` writes
    (terraform,) = example.of_type("terraform")
    (backend,) = terraform.body.blocks_of("backend")
    assert backend.labels == ("s3",)
    assert {n: Evaluation(example).expr(a.expr, {}) for n, a in backend.body.attributes.items()} == {
        "encrypt": True,
        "use_lockfile": True,
    }


@pytest.mark.parametrize("directory", [MODULE, *sorted(MODULE.glob("modules/*"))], ids=lambda p: p.name)
def test_every_variable_and_output_is_typed_and_described(directory: Path) -> None:
    from .terraform.syntax import Template

    module = load_module(directory)
    for name, variable in module.variables.items():
        assert "type" in variable.body.attributes, f"variable {name} has no type"
        description = variable.body.attributes["description"].expr
        assert isinstance(description, Template) and len(str(description.parts[0]).split()) >= 3, name
    for name, output in module.outputs.items():
        assert "description" in output.body.attributes, f"output {name} has no description"
