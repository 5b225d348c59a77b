"""The CI/CD workflow (schema and structure) and the smoke test it runs against the live URL."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml

from .conftest import ROOT, Deployment

WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
SMOKE_TEST = ROOT / "scripts" / "smoke-test.sh"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _check_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    """ci.yml, parsed (PyYAML reads the key `on` as True: put it back under its name)."""
    data: dict[Any, Any] = yaml.safe_load(CI.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


# -- the workflow files ----------------------------------------------------------------------------
def test_there_is_one_workflow() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["ci.yml"]


def test_workflow_matches_the_github_schema() -> None:
    result = _check_workflow(CI)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = yaml.safe_load(CI.read_text())
    del broken["jobs"]["test"]["runs-on"]
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = _check_workflow(path)
    assert result.returncode == 1
    assert "runs-on" in result.stdout


def test_tests_run_on_pull_requests_and_pushes(workflow: dict[str, Any]) -> None:
    assert {"pull_request", "push"} <= set(workflow["on"])
    steps = workflow["jobs"]["test"]["steps"]
    assert any(step.get("run", "").strip() == "make test" for step in steps)
    assert "if" not in workflow["jobs"]["test"]


#: The jobs that reach the account: the SAM deployment, and the Terraform plan.
OIDC_JOBS = ("deploy", "terraform")


def test_only_the_jobs_reaching_the_account_may_request_an_oidc_token(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions", {})
        if name in OIDC_JOBS:
            assert permissions == {"contents": "read", "id-token": "write"}
        else:
            assert "id-token" not in permissions


def test_deploy_only_from_a_push_to_main_after_the_tests(workflow: dict[str, Any]) -> None:
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    condition = deploy["if"].replace(" ", "")
    assert "github.ref=='refs/heads/main'" in condition
    assert "github.event_name=='push'" in condition
    assert "&&" in condition
    assert "||" not in condition
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_deploy_assumes_the_role_by_oidc_then_builds_deploys_and_smoke_tests(
    workflow: dict[str, Any],
) -> None:
    steps = workflow["jobs"]["deploy"]["steps"]
    (credentials,) = [
        s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ secrets.AWS_DEPLOY_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])
    runs = [s.get("run", "") for s in steps]
    order = [
        steps.index(credentials),
        next(i for i, r in enumerate(runs) if r.strip().startswith("make deploy")),
        next(i for i, r in enumerate(runs) if "scripts/smoke-test.sh" in r),
    ]
    assert order == sorted(order)
    deploy_command = next(r for r in runs if r.strip().startswith("make deploy"))
    assert "--no-confirm-changeset" in deploy_command
    # `make deploy` is what a person runs: sam build, then sam deploy with samconfig.toml.
    recipe = re.search(r"^deploy:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe, "the Makefile has a deploy target"
    assert [line.strip() for line in recipe.group(1).splitlines()] == [
        "$(BIN)/sam build",
        "$(BIN)/sam deploy $(ARGS)",
    ]
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]["deploy"]["parameters"]
    assert config["capabilities"] == "CAPABILITY_IAM" and config["resolve_s3"] is True


def test_the_terraform_job_checks_the_layout_validates_and_plans_but_never_applies(
    workflow: dict[str, Any],
) -> None:
    job = workflow["jobs"]["terraform"]
    steps = job["steps"]
    runs = [s.get("run", "") for s in steps]
    (setup,) = [s for s in steps if s.get("uses", "").startswith("hashicorp/setup-terraform@")]
    # The module needs Terraform 1.11 (versions.tf): the job installs a 1.11.
    assert setup["with"]["terraform_version"] == "~1.11"
    assert ">= 1.11.0" in (ROOT / "deploy" / "terraform" / "versions.tf").read_text()
    (credentials,) = [
        s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ secrets.AWS_DEPLOY_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])

    def index(fragment: str) -> int:
        (found,) = [i for i, r in enumerate(runs) if fragment in r]
        return found

    order = [
        index("fmt -check -recursive"),
        index("make package"),
        index("validate"),
        steps.index(credentials),
        index(" plan "),
    ]
    assert order == sorted(order)
    assert "init -backend=false" in runs[index("validate")]
    # Only the plan needs the account, and only where a state bucket is configured.
    for step in (credentials, steps[index(" plan ")]):
        assert step["if"] == "vars.TF_STATE_BUCKET != ''"
    assert not any(re.search(r"\bapply\b", r) for r in runs)
    assert not any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)


# -- the smoke test, against the real handler behind a local stand-in for API Gateway -------------
@dataclass
class _Context:
    """The parts of a Lambda context the handler reads."""

    function_name: str = "records"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:records"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


def _proxy_event(
    method: str, raw_path: str, headers: dict[str, str], body: bytes, stage: str
) -> dict[str, Any]:
    """An API Gateway REST proxy event (v1.0) for a request to /<stage>/..."""
    split = urlsplit(raw_path)
    path = split.path.removeprefix(f"/{stage}") or "/"
    query = dict(parse_qsl(split.query))
    return {
        "resource": "/{proxy+}" if path != "/" else "/",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"proxy": unquote(path.lstrip("/"))} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": stage,
            "path": split.path,
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),  # binary media types */*: API Gateway sends bodies base64
    }


@pytest.fixture(scope="module")
def live_stage() -> Iterator[str]:
    """The real handler against moto's DynamoDB, served at http://127.0.0.1:<port>/dev/."""
    from moto import mock_aws

    patch = pytest.MonkeyPatch()
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TABLE_NAME": "records-smoke",
        "PARTITION_KEY": "email",
        "SORT_KEY": "id",
        "CURSOR_SECRET": "smoke-test-secret",
    }.items():
        patch.setenv(name, value)
    with mock_aws():
        import boto3

        from serverless_crud import settings
        from serverless_crud.dal.clients import client
        from serverless_crud.handler import lambda_handler

        settings.reset()
        client.cache_clear()
        boto3.client("dynamodb").create_table(
            TableName="records-smoke",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "email", "AttributeType": "S"},
                {"AttributeName": "id", "AttributeType": "N"},
            ],
            KeySchema=[
                {"AttributeName": "email", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
        )

        class Gateway(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                event = _proxy_event(self.command, self.path, dict(self.headers.items()), body, "dev")
                response = lambda_handler(event, _Context())  # type: ignore[arg-type]
                payload = response.get("body") or ""
                data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
                self.send_response(response["statusCode"])
                headers = dict(response.get("headers") or {})
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    headers[name] = ", ".join(values)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            # http.server dispatches on do_<METHOD>.
            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/dev/"
        finally:
            server.shutdown()
            server.server_close()
            settings.reset()
            client.cache_clear()
    patch.undo()


def _smoke(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SMOKE_TEST), url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SMOKE_HEALTH_ATTEMPTS": "1"},
    )


def test_smoke_test_passes_against_a_working_stage(live_stage: str) -> None:
    result = _smoke(live_stage)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("ok:")] == [
        "GET",
        "POST",
        "GET",
        "DELETE",
        "GET",
    ]
    assert lines[-1] == f"smoke test passed: {live_stage.rstrip('/')}"


def test_smoke_test_leaves_no_record_behind(live_stage: str) -> None:
    result = _smoke(live_stage)
    assert result.returncode == 0, result.stdout + result.stderr
    listing = subprocess.run(
        ["curl", "--silent", f"{live_stage}records?limit=100"], capture_output=True, text=True, check=True
    )
    assert json.loads(listing.stdout)["items"] == []


def test_smoke_test_fails_when_the_stage_does_not_answer(live_stage: str) -> None:
    result = _smoke(live_stage.replace("/dev/", "/wrong-stage/"))
    assert result.returncode != 0
    assert "FAIL: GET" in result.stderr
    assert "/wrong-stage/health answered 404, expected 200" in result.stderr


# -- sam deploy defaults ---------------------------------------------------------------------------
def test_samconfig_deploys_the_dev_stack_with_the_capability_it_needs(
    deployments: Callable[[str], Deployment],
) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert config["default"]["global"]["parameters"]["stack_name"] == "serverless-crud-dev"
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
    # CAPABILITY_IAM is enough only while no IAM resource carries a custom name.
    for name in ("dev", "everything"):
        for resource in deployments(name).resources.values():
            if resource["Type"].startswith("AWS::IAM::"):
                assert not {"RoleName", "PolicyName", "UserName", "GroupName"} & set(resource["Properties"])
