"""The local S3 and Step Functions, over the one AWS endpoint of a `serverless-crud serve` subprocess.

tests/e2e/workflows/template.yaml declares two buckets and two state machines (one from a file with
DefinitionSubstitutions, one inline); its tasks are tests/e2e/functions/steps.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import START_LIMIT_SECONDS, Server, aws_client, start_server

pytestmark = pytest.mark.runs_for(45)

TEMPLATE = Path(__file__).resolve().parent / "workflows" / "template.yaml"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:steps"
WAITING = "arn:aws:states:us-east-1:123456789012:stateMachine:WaitingMachine"


def serve(tmp_path: Path) -> Server:
    return start_server(tmp_path, template=TEMPLATE, state=tmp_path / "state")


def finished(sfn: Any, arn: str) -> dict[str, Any]:
    """The execution once it has left RUNNING (a guard against a hang, not a timing assertion)."""
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.1)
    raise AssertionError(f"{arn} is still running")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = serve(tmp_path_factory.mktemp("workflows"))
    yield running
    running.stop()


def test_the_banner_names_the_buckets_and_state_machines(server):
    # The buckets are restored once the server has answered (or a second after the banner): their
    # banner line names them, the ready line counts their objects.
    server.wait_for_output("S3 ready: filesbucket (0 objects), named-bucket (0 objects)")
    output = server.output()
    assert "\n  S3           filesbucket" in output
    assert "States       steps, WaitingMachine" in output


def test_functions_see_the_local_names_of_buckets_and_state_machines(server):
    with urllib.request.urlopen(server.url + "/echo/env", timeout=30) as response:
        environment = json.loads(response.read())["environment"]
    assert environment["MACHINE_ARN"] == MACHINE
    assert environment["MACHINE_NAME"] == "steps"
    assert environment["BUCKET"] == "filesbucket"
    assert environment["BUCKET_ARN"] == "arn:aws:s3:::named-bucket"


def test_the_template_state_machines_exist_with_their_substitutions(server):
    sfn = aws_client(server.aws, "stepfunctions")
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    assert machines == {"steps": MACHINE, "WaitingMachine": WAITING}
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=MACHINE)["definition"])
    states = definition["States"]
    assert states["Double"]["Parameters"]["FunctionName"].endswith(":function:DoubleFunction")
    assert states["Flaky"]["Resource"].endswith(":function:FlakyFunction")
    assert states["Publish"]["Parameters"]["FunctionName"] == "PublishFunction"
    assert states["Greet"]["Result"] == "hello from us-east-1"


def test_an_execution_runs_the_template_functions_with_retry_catch_and_map(server):
    sfn = aws_client(server.aws, "stepfunctions")
    started = sfn.start_execution(
        stateMachineArn=MACHINE,
        name="first",
        input=json.dumps({"n": 21, "fail": 2, "items": [1, 2, 3, 4, 5]}),
    )
    described = finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    # Each function with its own environment.
    assert output["doubled"] == {"n": 42, "variable": "steps-value"}
    # Two Throttled errors retried by the state machine's Retry, then the answer.
    assert output["flaky"] == {"fail": 2, "attempts": 3}
    assert output["each"] == [2, 4, 6, 8, 10]
    # The function timed out after its own 1 s Timeout; Catch saw Lambda's error type.
    assert output["lingered"]["Error"] == "Sandbox.Timedout"
    assert output["greeting"] == "hello from us-east-1"
    # The presigned link the function made works against the local endpoint.
    with urllib.request.urlopen(output["published"]["url"], timeout=30) as response:
        assert response.read() == b"a,b\n1,2\n"
    listed = sfn.list_executions(stateMachineArn=MACHINE)["executions"]
    assert [(e["name"], e["status"]) for e in listed] == [("first", "SUCCEEDED")]


def test_retries_exhausted_fail_the_execution_with_the_task_error(server):
    sfn = aws_client(server.aws, "stepfunctions")
    started = sfn.start_execution(
        stateMachineArn=MACHINE, name="hopeless", input=json.dumps({"n": 1, "fail": 9})
    )
    described = finished(sfn, started["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "Throttled"
    assert "throttled" in json.loads(described["cause"])["errorMessage"]


def test_objects_executions_and_interruptions_survive_a_restart(tmp_path):
    first = serve(tmp_path)
    try:
        s3 = aws_client(first.aws, "s3")
        s3.put_object(
            Bucket="named-bucket", Key="a/b.jsonl", Body=b'{"x": 1}\n', ContentType="application/x-ndjson"
        )
        s3.put_object(Bucket="named-bucket", Key="gone.txt", Body=b"bye")
        s3.put_object(Bucket="named-bucket", Key="gone-too.txt", Body=b"bye")
        s3.delete_object(Bucket="named-bucket", Key="gone.txt")
        s3.delete_objects(Bucket="named-bucket", Delete={"Objects": [{"Key": "gone-too.txt"}]})
        s3.create_bucket(
            Bucket="made-at-the-endpoint", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_object(Bucket="made-at-the-endpoint", Key="k", Body=b"v")
        sfn = aws_client(first.aws, "stepfunctions")
        done = sfn.start_execution(
            stateMachineArn=MACHINE, name="done", input=json.dumps({"n": 2, "fail": 0, "items": []})
        )
        finished(sfn, done["executionArn"])
        waiting = sfn.start_execution(stateMachineArn=WAITING, name="waiting", input="{}")
        assert sfn.describe_execution(executionArn=waiting["executionArn"])["status"] == "RUNNING"
    finally:
        first.stop(signal.SIGKILL)

    second = serve(tmp_path)
    try:
        s3 = aws_client(second.aws, "s3")
        kept = s3.get_object(Bucket="named-bucket", Key="a/b.jsonl")
        assert kept["Body"].read() == b'{"x": 1}\n'
        assert kept["ContentType"] == "application/x-ndjson"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="named-bucket")["Contents"]] == ["a/b.jsonl"]
        assert s3.get_object(Bucket="made-at-the-endpoint", Key="k")["Body"].read() == b"v"
        sfn = aws_client(second.aws, "stepfunctions")
        described = sfn.describe_execution(executionArn=done["executionArn"])
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"])["doubled"]["n"] == 4
        interrupted = sfn.describe_execution(executionArn=waiting["executionArn"])
        assert interrupted["status"] == "FAILED"
        assert interrupted["cause"] == "interrupted by a restart of the local runtime"
        assert "1 execution(s) interrupted" in second.output()
        # A new execution under a new name runs; the old name stays taken, as on AWS.
        again = sfn.start_execution(
            stateMachineArn=MACHINE, name="after", input=json.dumps({"n": 3, "fail": 0, "items": []})
        )
        assert finished(sfn, again["executionArn"])["status"] == "SUCCEEDED"
        with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
            sfn.start_execution(stateMachineArn=WAITING, name="waiting", input="{}")
    finally:
        second.stop()

    third = serve(tmp_path)
    try:
        sfn = aws_client(third.aws, "stepfunctions")
        statuses = {
            e["name"]: e["status"] for e in sfn.list_executions(stateMachineArn=MACHINE)["executions"]
        }
        assert statuses == {"done": "SUCCEEDED", "after": "SUCCEEDED"}
        waiting_now = sfn.list_executions(stateMachineArn=WAITING)["executions"]
        assert [(e["name"], e["status"]) for e in waiting_now] == [("waiting", "FAILED")]
        assert "interrupted" not in third.output()  # recorded once, not again at every start
    finally:
        third.stop()


def _broken_template(tmp_path: Path) -> Path:
    """The workflows template with WaitingMachine's Wait state made a state type Step Functions refuses."""
    here = TEMPLATE.parent
    broken = tmp_path / "template.yaml"
    broken.write_text(
        TEMPLATE.read_text()
        .replace("CodeUri: ../functions/", f"CodeUri: {here.parent / 'functions'}/")
        .replace("DefinitionUri: steps.asl.json", f"DefinitionUri: {here / 'steps.asl.json'}")
        .replace("{ Type: Wait, Seconds: 120, End: true }", "{ Type: Nonsense, End: true }")
    )
    return broken


def _refused(template: Path, state: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "serverless_crud_cli", "serve", "--port", "0"]
    command += ["--template", str(template), "--state-dir", str(state)]
    return subprocess.run(command, capture_output=True, text=True, timeout=START_LIMIT_SECONDS, check=False)


def test_a_definition_step_functions_refuses_ends_the_server_with_one_sentence(tmp_path):
    """Machines are created after the server answers; one that moto refuses still ends the server, named."""
    ended = _refused(_broken_template(tmp_path), tmp_path / "state")
    assert ended.returncode == 1
    assert "serverless-crud: WaitingMachine: Step Functions refuses its definition" in ended.stderr
    assert "Traceback" not in ended.stdout + ended.stderr


def test_definitions_accepted_before_wait_for_the_first_request_and_a_changed_one_is_checked_again(
    tmp_path, monkeypatch
):
    """Each accepted definition is noted in the runtime's cache (one per content); a later start
    creates those machines at the first Step Functions request, which runs them as ever, and a
    definition changed since is checked at start again: refused, it still ends the server."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SERVERLESS_LOCAL_CACHE", str(cache))
    for folder in ("first", "second"):
        (tmp_path / folder).mkdir()
    first = serve(tmp_path / "first")
    try:
        first.wait_for_output("States ready")
    finally:
        first.stop()
    assert len(list((cache / "states-checked").iterdir())) == 2  # steps, WaitingMachine

    ended = _refused(_broken_template(tmp_path), tmp_path / "broken-state")
    assert ended.returncode == 1
    assert "serverless-crud: WaitingMachine: Step Functions refuses its definition" in ended.stderr

    second = serve(tmp_path / "second")
    try:
        second.wait_for_output("States ready: steps, WaitingMachine")
        sfn = aws_client(second.aws, "stepfunctions")
        machines = {m["name"] for m in sfn.list_state_machines()["stateMachines"]}
        assert machines == {"steps", "WaitingMachine"}
        started = sfn.start_execution(
            stateMachineArn=MACHINE, input=json.dumps({"n": 2, "fail": 0, "items": [1]})
        )
        described = finished(sfn, started["executionArn"])
        assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
        assert json.loads(described["output"])["doubled"]["n"] == 4
    finally:
        second.stop()
    assert len(list((cache / "states-checked").iterdir())) == 2
