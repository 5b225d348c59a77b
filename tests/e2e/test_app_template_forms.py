"""tests/apps/template-forms: the forms a SAM template may take, run by `serverless-local serve` started in
the app's folder (its template.yml found there)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server, aws_client, eventually, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(tmp_path_factory.mktemp("template-forms"), "template-forms")
    yield server
    server.stop()


def answer(server: Server, path: str) -> Any:
    reply = server.request("GET", path)
    assert reply.status == 200, reply.body
    return reply.json()


def test_a_handler_in_a_folder_with_layers_a_secret_and_a_parameter(app):
    hello = answer(app, "/hello")

    assert hello["common"] == "from the common layer"  # a prebuilt layer's python/
    assert hello["helper"] == "BUILT LAYER!"  # a layer sam build builds...
    assert hello["humanized"] == "1,234,567"  # ...with its requirements.txt installed
    assert hello["greeting"] == "hello from ssm"  # {{resolve:ssm:...}}
    assert hello["greeting_name"] == "/forms/greeting"  # !Ref of the parameter
    secret = aws_client(app.aws, "secretsmanager").get_secret_value(SecretId="forms/greeting-key")
    assert json.loads(secret["SecretString"]) == {"user": "forms", "password": hello["password"]}
    assert len(hello["password"]) == 40 and hello["password"].isalnum()
    assert hello["secret_arn"] == secret["ARN"]
    assert hello["log_format"] == "JSON"


def test_inline_code_and_references_to_an_alias_and_a_version(app):
    inline = answer(app, "/anything/at/all")  # the $default route of the implicit HTTP API

    assert inline == {
        "alias": "arn:aws:lambda:us-east-1:123456789012:function:Hello:live",
        "version": "arn:aws:lambda:us-east-1:123456789012:function:Hello:1",
    }
    alias = aws_client(app.aws, "lambda").get_alias(FunctionName="Hello", Name="live")
    assert alias["FunctionVersion"] == "1"


def test_a_functions_requirements_are_installed_for_it(app):
    assert app.request("GET", "/words/mouse").body == b"mice"


def log_messages(server: Server, function: str) -> list[str]:
    group = aws_client(server.aws, "lambda").get_function(FunctionName=function)["Configuration"][
        "LoggingConfig"
    ]["LogGroup"]
    events = aws_client(server.aws, "logs").filter_log_events(logGroupName=group)["events"]
    return [event["message"] for event in events]


def test_output_reaches_the_log_group_and_the_console_as_lambda_writes_it(app):
    answer(app, "/hello")
    answer(app, "/inline-page")

    hello = eventually(
        lambda: (found := log_messages(app, "Hello")) and any("a print" in m for m in found) and found
    )
    records = [json.loads(m) for m in hello if m.startswith("{")]
    debug = next(
        r for r in records if r.get("message") == "a debug record: the JSON LoggingConfig asks for DEBUG"
    )
    assert (debug["level"], debug["logger"]) == ("DEBUG", "hello")
    assert debug["requestId"]
    assert any(r.get("message") == "an info record from the root logger" for r in records)
    assert any(r.get("type") == "platform.report" for r in records)  # Lambda's own lines, as JSON

    inline = eventually(
        lambda: (found := log_messages(app, "Inline")) and any("printed" in m for m in found) and found
    )
    assert any(m.startswith("[WARNING]") and "shown: a warning" in m for m in inline)
    assert not any("hidden" in m for m in inline)  # the root logger is at WARNING in the Text format
    assert any(m.startswith("START RequestId: ") for m in inline)
    assert any(m.startswith("REPORT RequestId: ") and "Duration: " in m for m in inline)
    console = app.output()
    assert "[Hello] a print, unbuffered" in console
    assert "[Inline] printed at once" in console
    assert "START RequestId" not in console  # Lambda's own lines are in the log, not on the console


def test_serverless_local_logs_prints_a_functions_log(app):
    answer(app, "/hello")
    state = app.args[app.args.index("--state-dir") + 1]

    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "serverless_local.cli",
            "logs",
            "Hello",
            "--state-dir",
            state,
            "--since",
            "1h",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert "a print, unbuffered" in printed.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "serverless_local.cli", "logs", "Nobody", "--state-dir", state],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert (missing.returncode, missing.stderr) == (
        1,
        "serverless-local: no function Nobody (or it has logged nothing yet)\n",
    )


def test_the_banner_names_what_is_not_emulated(app):
    banner = app.output().split("\n\n")[0]

    assert "AWS::EC2::VPC Network" in banner
    assert "AWS::Kinesis::Stream Clicks" in banner
    assert "Kinesis events ClickCounter.Clicks" in banner
    assert "not enforced" in banner and "HelloToNotes" in banner and "Hello policies" in banner
