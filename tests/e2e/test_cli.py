"""`serverless-crud serve` as a user meets it: clear one-line errors, reload, clean stop."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.e2e.conftest import PROBE_TEMPLATE, ROOT, start_server

FUNCTION = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"


def serve(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "serverless_crud_cli", "serve", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("template_text", "expected"),
    [
        ("Resources: [unclosed", "is not valid YAML at line"),
        ("Description: no resources\n", "is not a CloudFormation template"),
        (
            FUNCTION + "      Handler: nodots\n",
            "function Fn: Handler must be 'module.function'",
        ),
        (
            FUNCTION + "      Handler: a.b\n"
            "      Events:\n        E:\n          Type: Api\n          Properties: {Path: /x, Method: GET, "
            "RestApiId: !Ref Missing}\n",
            "Ref to unknown name 'Missing'",
        ),
        (
            "Resources:\n  V:\n    Type: AWS::EC2::VPC\n",
            "declares nothing the local runtime runs (AWS::EC2::VPC)",
        ),
    ],
)
def test_a_template_it_cannot_run_is_one_sentence_naming_the_problem(tmp_path, template_text, expected):
    template = tmp_path / "template.yaml"
    template.write_text(template_text)

    result = serve("--template", str(template), "--state-dir", str(tmp_path / "state"), "--port", "0")

    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", str(port), "--state-dir", str(tmp_path / "state"))

    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("flag", ["--aws-port", "--dynamodb-port"])
def test_an_aws_port_in_use_is_a_clear_error_under_either_name(tmp_path, flag):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve("--port", "0", flag, str(port), "--state-dir", str(tmp_path / "state"))

    assert result.returncode == 1
    assert f"cannot serve the AWS endpoint on port {port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_cleanly(tmp_path):
    server = start_server(tmp_path)

    assert server.stop(signal.SIGINT) == 0
    assert "stopped" in server.output()
    assert "Traceback" not in server.output()


def test_reload_reimports_the_handler_when_its_source_changes(tmp_path):
    shutil.copytree(PROBE_TEMPLATE.parent / "functions", tmp_path / "functions")
    shutil.copy(PROBE_TEMPLATE, tmp_path / "template.yaml")
    source = tmp_path / "functions" / "probe.py"
    original = source.read_text()
    shouting = original.replace(
        'return {"statusCode": 200, "body": what}', 'return {"statusCode": 200, "body": what.upper()}'
    )
    assert shouting != original
    server = start_server(tmp_path, "--reload", template=tmp_path / "template.yaml")

    def answers(body: bytes) -> bool:
        deadline = time.monotonic() + 30
        while server.request("GET", "/behave/hello").body != body and time.monotonic() < deadline:
            time.sleep(0.1)
        return server.request("GET", "/behave/hello").body == body

    try:
        # An edit the moment the server is up (before any request) counts, and so does a later one.
        source.write_text(shouting)
        assert answers(b"HELLO")
        source.write_text(original)
        assert answers(b"hello")
        assert server.output().count("reloading the handler") >= 2
    finally:
        server.stop()


def test_a_damaged_snapshot_is_one_sentence_naming_it_and_the_server_starts(tmp_path):
    first = start_server(tmp_path)
    created = first.request("POST", "/records", {"email": "kept@example.com", "name": "Kept"})
    first.stop()
    start_server(tmp_path).stop()  # replays the first run's journal, compacts it, waits for it
    state = tmp_path / "state" / "dynamodb"
    (snapshot,) = state.glob("snapshot-??????")
    (snapshot / "manifest").write_text("{not json")

    server = start_server(tmp_path)
    try:
        assert server.request("GET", created.headers["Location"]).json()["name"] == "Kept"
        assert (
            f"DynamoDB: the snapshot {snapshot.name} is damaged (its manifest cannot be read"
            in server.output()
        )
        assert "Traceback" not in server.output()
    finally:
        server.stop()


def test_a_second_server_on_the_same_state_directory_is_refused(tmp_path):
    server = start_server(tmp_path)
    try:
        created = server.request("POST", "/records", {"email": "mine@example.com", "name": "Mine"})

        result = serve("--port", "0", "--state-dir", str(tmp_path / "state"), "--fresh")

        assert result.returncode == 1
        assert f"is in use by another server (pid {server.process.pid})" in result.stderr
        assert server.request("GET", created.headers["Location"]).status == 200
    finally:
        server.stop()
