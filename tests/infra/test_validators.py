"""cfn-lint, the SAM transform and checkov pass on template.yaml — and each catches a broken copy.

cfn-lint and checkov run once each for the whole module (module-scoped fixtures): cfn-lint over the
SAM template and the transform's output for every scenario; checkov over the SAM template as
written, its variants with every optional feature switched on, two transformed templates and a
broken copy, in one run.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from samtranslator.model.exceptions import InvalidDocumentException

from .conftest import (
    REGION,
    SCENARIOS,
    TEMPLATE_PATH,
    Deployment,
    Template,
    dump_json,
    translate,
    with_defaults,
)

pytestmark = pytest.mark.runs_for(60)

#: cfn-lint cannot know that SAM drops TracingConfig when the TracingMode parameter is "Disabled",
#: so on the transform's output it warns that "Disabled" is no valid Lambda tracing mode. Only this
#: exact finding is set aside; `test_disabled_tracing_leaves_no_tracing_config` proves the premise.
_KNOWN_TRANSFORM_FALSE_POSITIVES = {
    ("W1030", f"Resources/{name}/Properties/TracingConfig/Mode")
    for name in ("RecordsFunction", "TasksFunction", "HistoryFunction")
}


# -- cfn-lint --------------------------------------------------------------------------------------
def _lint(text: str, *, informational: bool = False) -> list[tuple[str, str, str]]:
    """cfn-lint findings as (rule, message, path); `informational` adds the I-level rules."""
    from cfnlint.api import ManualArgs, lint

    config = ManualArgs(regions=[REGION, "us-east-1"], include_checks=["I"] if informational else [])
    return [(m.rule.id, m.message, "/".join(str(p) for p in m.path)) for m in lint(text, config=config)]


def _broken_for_cfn_lint(text: str) -> str:
    """Two mistakes cfn-lint must report: an invalid billing mode and a Ref to no parameter."""
    broken = text.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: ON_DEMAND", 1)
    broken = broken.replace(
        "RetentionInDays: !Ref LogRetentionInDays", "RetentionInDays: !Ref LogRetention", 1
    )
    assert broken.count("ON_DEMAND") == 1
    assert "!Ref LogRetention\n" in broken
    return broken


@pytest.fixture(scope="module")
def cfn_lint_results(template_text: str, deployments: Callable[[str], Deployment]) -> dict[str, Any]:
    """cfn-lint findings: the SAM template, each scenario's transform output, a broken copy."""
    import json

    # The template we write passes the informational rules too (explicit deletion policies on
    # stateful resources...); the transform's output is SAM's, held to errors and warnings.
    results: dict[str, Any] = {"template.yaml": _lint(template_text, informational=True)}
    for name in SCENARIOS:
        results[f"transformed:{name}"] = _lint(json.dumps(deployments(name).translated))
    results["broken"] = _lint(_broken_for_cfn_lint(template_text))
    return results


def test_cfn_lint_passes_on_the_sam_template(cfn_lint_results: dict[str, Any]) -> None:
    assert cfn_lint_results["template.yaml"] == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_cfn_lint_passes_on_the_transformed_template(cfn_lint_results: dict[str, Any], scenario: str) -> None:
    findings = [
        f
        for f in cfn_lint_results[f"transformed:{scenario}"]
        if (f[0], _path_of(f)) not in _KNOWN_TRANSFORM_FALSE_POSITIVES
    ]
    assert findings == []


def _path_of(finding: tuple[str, str, str]) -> str:
    rule, message, path = finding
    # W1030 reports the parameter's path; the resolved location is in the message.
    if rule == "W1030" and " at '" in message:
        return message.rsplit(" at '", 1)[1].rstrip("'")
    return path


def test_cfn_lint_catches_a_broken_template(cfn_lint_results: dict[str, Any]) -> None:
    errors = {(rule, path) for rule, _, path in cfn_lint_results["broken"] if rule.startswith("E")}
    assert ("E3030", "Resources/RecordsTable/Properties/BillingMode") in errors
    assert any(
        path.startswith("Resources/RecordsFunctionLogGroup/Properties/RetentionInDays") for _, path in errors
    )


def test_disabled_tracing_leaves_no_tracing_config(deployments: Callable[[str], Deployment]) -> None:
    """The premise of the one cfn-lint finding set aside: "Disabled" never reaches Lambda."""
    untraced = deployments("dev").translated["Resources"]["RecordsFunction"]["Properties"]
    traced = deployments("prod").translated["Resources"]["RecordsFunction"]["Properties"]
    assert "TracingConfig" not in untraced
    assert traced["TracingConfig"] == {"Mode": {"Ref": "TracingMode"}}


# -- the SAM transform -----------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_sam_transform_succeeds_offline(deployments: Callable[[str], Deployment], scenario: str) -> None:
    translated = deployments(scenario).translated
    types = {r["Type"] for r in translated["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    assert {"AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage"} <= types


def test_sam_transform_catches_a_broken_template(sam_template: Template) -> None:
    broken = copy.deepcopy(sam_template)
    # An Api event pointing at an API that does not exist in the template.
    broken["Resources"]["RecordsFunction"]["Properties"]["Events"] = {
        "Proxy": {
            "Type": "Api",
            "Properties": {"RestApiId": {"Ref": "NoSuchApi"}, "Path": "/x", "Method": "GET"},
        }
    }
    with pytest.raises(InvalidDocumentException) as caught:
        translate(broken)
    assert "RecordsFunction" in str(caught.value.causes)


# -- checkov ---------------------------------------------------------------------------------------
_CHECKOV_SAM_VARIANTS = ("everything", "existing-table", "prod")
_CHECKOV_TRANSFORMED = ("dev", "everything")


def _propagate_checkov_skips(sam: Template, translated: Template) -> Template:
    """Skips declared on a SAM resource also cover the resources the transform generates from it."""
    result = copy.deepcopy(translated)
    declared = {
        k: v["Metadata"]["checkov"] for k, v in sam["Resources"].items() if "checkov" in v.get("Metadata", {})
    }
    for logical_id, resource in result["Resources"].items():
        owners = [k for k in declared if logical_id.startswith(k)]
        if owners and "checkov" not in resource.get("Metadata", {}):
            resource.setdefault("Metadata", {})["checkov"] = declared[max(owners, key=len)]
    return result


def _broken_for_checkov(sam_template: Template) -> Template:
    """A copy that loses point-in-time recovery and log retention."""
    broken = copy.deepcopy(sam_template)
    del broken["Resources"]["RecordsTable"]["Properties"]["PointInTimeRecoverySpecification"]
    del broken["Resources"]["RecordsFunctionLogGroup"]["Properties"]["RetentionInDays"]
    return broken


@pytest.fixture(scope="module")
def checkov_results(
    tmp_path_factory: pytest.TempPathFactory,
    sam_template: Template,
    deployments: Callable[[str], Deployment],
) -> dict[str, dict[str, list[Any]]]:
    """One checkov run; results by file name and outcome ("passed", "failed", "skipped")."""
    from checkov.cloudformation.runner import Runner
    from checkov.runner_filter import RunnerFilter

    folder = tmp_path_factory.mktemp("checkov")
    files = [TEMPLATE_PATH]
    for name in _CHECKOV_SAM_VARIANTS:
        files.append(dump_json(with_defaults(sam_template, SCENARIOS[name]), folder / f"sam-{name}.json"))
    for name in _CHECKOV_TRANSFORMED:
        deployment = deployments(name)
        translated = _propagate_checkov_skips(deployment.sam, deployment.translated)
        files.append(dump_json(translated, folder / f"transformed-{name}.json"))
    files.append(dump_json(_broken_for_checkov(sam_template), folder / "broken.json"))

    report = Runner().run(
        root_folder=None,
        files=[str(f) for f in files],
        runner_filter=RunnerFilter(framework=["cloudformation"]),
    )
    results: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for outcome, records in (
        ("passed", report.passed_checks),
        ("failed", report.failed_checks),
        ("skipped", report.skipped_checks),
    ):
        for record in records:
            results[Path(record.file_abs_path).name][outcome].append(record)
    return results


_SCANNED = (
    ["template.yaml"]
    + [f"sam-{n}.json" for n in _CHECKOV_SAM_VARIANTS]
    + [f"transformed-{n}.json" for n in _CHECKOV_TRANSFORMED]
)


@pytest.mark.parametrize("file_name", _SCANNED)
def test_checkov_finds_no_failed_check(
    checkov_results: dict[str, dict[str, list[Any]]], file_name: str
) -> None:
    outcome = checkov_results[file_name]
    # A file checkov could not parse yields no results at all: that must not pass as "clean".
    assert len(outcome["passed"]) >= 10
    assert [(r.check_id, r.resource) for r in outcome["failed"]] == []


def test_every_checkov_skip_is_justified_and_used(
    checkov_results: dict[str, dict[str, list[Any]]], sam_template: Template
) -> None:
    declared = {
        (logical_id, skip["id"]): skip.get("comment", "")
        for logical_id, resource in sam_template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    assert declared, "expected the template to declare its checkov skips"
    for (logical_id, check_id), comment in declared.items():
        assert len(comment.split()) >= 8, f"{logical_id} skips {check_id} without a real justification"
    used = {
        (r.resource.split(".", 1)[1], r.check_id)
        for name in ("template.yaml", "sam-everything.json")
        for r in checkov_results[name]["skipped"]
    }
    assert set(declared) == used


def test_checkov_catches_a_broken_template(checkov_results: dict[str, dict[str, list[Any]]]) -> None:
    failed = {(r.check_id, r.resource) for r in checkov_results["broken.json"]["failed"]}
    assert ("CKV_AWS_28", "AWS::DynamoDB::Table.RecordsTable") in failed  # point-in-time recovery
    assert ("CKV_AWS_66", "AWS::Logs::LogGroup.RecordsFunctionLogGroup") in failed  # log retention
