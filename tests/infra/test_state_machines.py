"""The jobs' state machines, bucket, tables and alarm in template.yaml; the ASL of statemachines/
checked by asl-validator (npm, pinned in package-lock.json) and by creating each machine in moto."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from serverless_local.services.stepfunctions import substitute
from serverless_local.stack import LocalTemplate

from .conftest import TEMPLATE_PATH, Deployment, Template, iter_statements

ROOT = TEMPLATE_PATH.parent
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
MACHINES = ("ImportStateMachine", "ExportStateMachine", "EraseStateMachine")


def _machines(sam_template: Template) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in sam_template["Resources"].items() if k in MACHINES}


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert VALIDATOR.exists(), "make install runs npm ci, which installs asl-validator"
    arguments = [argument for path in paths for argument in ("--json-path", str(path))]
    return subprocess.run([str(VALIDATOR), *arguments], capture_output=True, text=True, check=False)


def test_every_definition_file_passes_asl_validator(sam_template: Template) -> None:
    files = [ROOT / p["DefinitionUri"] for p in _machines(sam_template).values()]
    assert sorted(f.name for f in files) == ["erase.asl.json", "export.asl.json", "import.asl.json"]
    result = _validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_catches_a_broken_definition(tmp_path: Path) -> None:
    definition = json.loads((ROOT / "statemachines" / "import.asl.json").read_text())
    definition["States"]["Split"]["Next"] = "NoSuchState"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    assert _validate(broken).returncode != 0


def test_every_placeholder_of_a_definition_is_substituted(sam_template: Template) -> None:
    for name, properties in _machines(sam_template).items():
        text = (ROOT / properties["DefinitionUri"]).read_text()
        placeholders = set(re.findall(r"\$\{([^}]+)\}", text))
        assert placeholders == set(properties["DefinitionSubstitutions"]), name


def test_every_state_machine_is_accepted_by_the_embedded_step_functions() -> None:
    from moto import mock_aws

    template = LocalTemplate(TEMPLATE_PATH)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        import boto3

        client = boto3.client("stepfunctions", region_name="us-east-1")
        role = "arn:aws:iam::123456789012:role/machines"
        for resource in template.of_type(["AWS::Serverless::StateMachine"]):
            text = (ROOT / resource.properties["DefinitionUri"]).read_text()
            values = template.resolve(resource.properties["DefinitionSubstitutions"], resource.logical_id)
            client.create_state_machine(
                name=resource.logical_id, definition=substitute(text, values), roleArn=role
            )
        broken = substitute(text, values).replace('"Type": "Choice"', '"Type": "Chose"')
        broken = broken.replace('"Type": "Task"', '"Type": "Tusk"', 1)
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError, match="ASLParserException"):
            client.create_state_machine(name="Broken", definition=broken, roleArn=role)


def test_throttled_writes_are_retried_with_backoff_and_jitter() -> None:
    definition = json.loads((ROOT / "statemachines" / "import.asl.json").read_text())
    write = definition["States"]["WriteChunks"]["ItemProcessor"]["States"]["WriteChunk"]
    (throttled,) = [r for r in write["Retry"] if "WriteThrottled" in r["ErrorEquals"]]
    assert "StoreUnavailable" in throttled["ErrorEquals"]  # a read DynamoDB throttled or timed out
    assert throttled["BackoffRate"] > 1
    assert throttled["JitterStrategy"] == "FULL"
    # The Map's concurrency and tolerated failures are the template's parameters, through the split.
    assert definition["States"]["WriteChunks"]["MaxConcurrencyPath"] == "$.split.concurrency"
    assert definition["States"]["WriteChunks"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"


def test_state_machines_log_trace_and_invoke_only_the_tasks_function(
    deployments: Callable[[str], Deployment],
) -> None:
    for scenario, tracing in (("dev", False), ("prod", True)):
        deployment = deployments(scenario)
        machines = deployment.of_type("AWS::StepFunctions::StateMachine")
        assert len(machines) == 3
        for logical_id, machine in machines.items():
            properties = machine["Properties"]
            destination = properties["LoggingConfiguration"]["Destinations"][0]
            assert "StateMachinesLogGroup" in json.dumps(destination)
            assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False
            assert properties.get("TracingConfiguration", {}).get("Enabled", False) is tracing, logical_id
            role = deployment.resources[properties["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
            invoked = [s for s in iter_statements(role) if "lambda:InvokeFunction" in json.dumps(s["Action"])]
            assert invoked
            assert all("TasksFunction" in json.dumps(s["Resource"]) for s in invoked)
            actions = {
                a
                for s in iter_statements(role)
                for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
            }
            assert not any(a.endswith("*") for a in actions), actions
            assert any(a.startswith("xray:") for a in actions) is tracing
    logs = deployments("dev").resources["StateMachinesLogGroup"]["Properties"]
    assert logs["RetentionInDays"] == 30


def test_the_files_bucket_is_private_encrypted_tls_only_and_expires_files(
    deployments: Callable[[str], Deployment],
) -> None:
    resources = deployments("dev").resources
    bucket = resources["FilesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rules = {r["Prefix"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert {p: r["ExpirationInDays"] for p, r in rules.items()} == {"imports/": 7, "exports/": 7}
    (statement,) = resources["FilesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_an_alarm_counts_failed_executions_of_every_state_machine(
    deployments: Callable[[str], Deployment],
) -> None:
    alarm = deployments("dev").resources["JobFailuresAlarm"]["Properties"]
    watched = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {m["MetricName"] for m in watched} == {"ExecutionsFailed"}
    assert len(watched) == 3
    assert alarm["AlarmActions"]


def test_the_api_function_may_start_and_read_jobs_and_no_more(
    deployments: Callable[[str], Deployment],
) -> None:
    resources = deployments("dev").resources
    role = resources["RecordsFunctionRole"]["Properties"]
    by_sid = {s.get("Sid"): s for s in iter_statements(role)}
    assert by_sid["StartJobs"]["Action"] == "states:StartExecution"
    assert by_sid["ImportFiles"]["Action"] == "s3:PutObject"
    assert by_sid["ExportLinks"]["Action"] == "s3:GetObject"
    tasks = resources["TasksFunctionRole"]["Properties"]
    actions = {
        a
        for s in iter_statements(tasks)
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert "dynamodb:DeleteItem" not in actions
    assert "dynamodb:BatchWriteItem" in actions
