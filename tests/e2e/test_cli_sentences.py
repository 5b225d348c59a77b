"""The `serverless-crud` console script as a person uses it, against a running signed-in server: it
signs in by itself locally, takes a token for a deployed API, and every mistake or failure is one
sentence on standard error with a documented exit status (1 failed, 2 usage, 3 rows rejected), never
a traceback."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, aws_client, start_server

CONSOLE_SCRIPT = ROOT / ".venv" / "bin" / "serverless-crud"
#: An environment without AWS configuration: the local server needs none.
CLEAN_ENV = {
    "PATH": os.environ["PATH"],
    "HOME": "/nonexistent",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=120,
        env={**CLEAN_ENV, **(env or {})},
        check=False,
    )


def one_sentence(done: subprocess.CompletedProcess[str], status: int) -> str:
    """The failure's sentence, after checking it is one line, with `status`, and no traceback."""
    assert done.returncode == status, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("serverless-crud"), done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("cli-sentences"), signed_in=True)
    running.wait_for_output("States ready")  # jobs start once the state machines exist
    yield running
    running.stop()


def _local(server: Server) -> list[str]:
    return ["--api", server.url, "--state-dir", server.state_dir]


def test_export_against_the_local_server_signs_in_by_itself(server, tmp_path):
    done = cli("export", *_local(server), "-o", "out.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 records written to out.csv"  # plural right, no token given
    assert (tmp_path / "out.csv").read_text().startswith("email,id,name")


def test_a_token_from_the_environment_or_the_option_and_a_wrong_one(server, tmp_path):
    password = Path(server.state_dir, "cognito-idp", "admin-password").read_text()
    token = cli(
        "token",
        "admin@example.com",
        "--password-stdin",
        "--state-dir",
        server.state_dir,
        cwd=tmp_path,
        stdin=password,
    ).stdout.strip()
    people = tmp_path / "one.jsonl"
    people.write_text(json.dumps({"email": "one@example.com", "id": 1, "name": "One"}) + "\n")
    imported = cli(
        "import", str(people), "--api", server.url, cwd=tmp_path, env={"SERVERLESS_CRUD_TOKEN": token}
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip().startswith("1 row: 1 written, 0 rejected")
    exported = cli("export", "--api", server.url, "--token", token, "-o", "one.csv", cwd=tmp_path)
    assert exported.stdout.strip() == "1 record written to one.csv"

    wrong = cli("export", "--api", server.url, "--token", "not-a-token", cwd=tmp_path)
    sentence = one_sentence(wrong, 1)
    assert (
        "wants a token" in sentence
        and "SERVERLESS_CRUD_TOKEN" in sentence
        and "serverless-crud token" in sentence
    )


def test_a_deployed_api_without_a_token_is_told_how_to_get_one(server, tmp_path):
    # Another host than this machine: no local sign-in is attempted (the server answers 401).
    host = server.url.replace("127.0.0.1", "localhost.localdomain")
    done = cli("export", "--api", host, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_bad_arguments_are_one_sentence_and_status_2(server, tmp_path):
    assert "is not an http(s) URL" in one_sentence(cli("export", "--api", "notaurl", cwd=tmp_path), 2)
    assert "is not a port number" in one_sentence(cli("serve", "--port", "99999", cwd=tmp_path), 2)
    jobs_before = _jobs(server)
    missing = one_sentence(cli("export", *_local(server), "-o", "/nonexistent/x.csv", cwd=tmp_path), 2)
    assert "/nonexistent" in missing and "does not exist" in missing
    assert _jobs(server) == jobs_before, "the export must not start"
    assert "--yes" in one_sentence(cli("erase", "x@example.com", *_local(server), cwd=tmp_path), 2)
    assert "invalid choice" in one_sentence(cli("export", "--format", "xml", cwd=tmp_path), 2)


def _jobs(server: Server) -> int:
    password = Path(server.state_dir, "cognito-idp", "admin-password").read_text()
    token = cli(
        "token",
        "admin@example.com",
        "--password-stdin",
        "--state-dir",
        server.state_dir,
        cwd=ROOT,
        stdin=password,
    ).stdout.strip()
    return len(server.request("GET", "/jobs", headers={"Authorization": token}).json()["items"])


def test_erase_with_yes_says_how_many_went(server, tmp_path):
    done = cli("erase", "nobody@example.com", "--yes", *_local(server), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 records of nobody@example.com erased, with 0 history entries"


def test_a_stopped_server_is_one_sentence(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = cli("export", "--api", f"http://127.0.0.1:{port}", "--state-dir", str(tmp_path), cwd=tmp_path)
    assert "cannot reach the API" in one_sentence(done, 1)


@pytest.mark.parametrize("after", [0.6, 1.2, "banner"])
def test_ctrl_c_while_serve_starts_stops_it_without_a_traceback(after, tmp_path):
    """Ctrl-C while serve imports the local runtime, while its services start, or as the banner prints;
    started as a shell starts a background job (`serverless-crud serve &`: SIGINT ignored), which a
    `kill -INT` still stops."""
    import signal
    import time

    def as_a_background_job() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    log = tmp_path / "serve.log"
    command = [str(CONSOLE_SCRIPT), "serve", "--port", "0", "--state-dir", str(tmp_path / "state")]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, preexec_fn=as_a_background_job
        )
    if after == "banner":
        deadline = time.monotonic() + 60
        while b"ready in" not in log.read_bytes():
            assert time.monotonic() < deadline and process.poll() is None, log.read_text()
            time.sleep(0.01)
    else:
        time.sleep(after)
    process.send_signal(signal.SIGINT)
    status = process.wait(timeout=60)
    output = log.read_text()
    assert "Traceback" not in output, output
    assert status in (0, 130), (status, output)
    assert output.rstrip().endswith("serverless-crud: stopped"), output


@pytest.mark.parametrize(
    ("override", "named"),
    [("AuthMode=bogus", "AuthMode must be one of cognito, none"), ("Nope=1", "no parameter Nope")],
)
def test_serve_refuses_parameter_overrides_sam_deploy_would_refuse(override, named, tmp_path):
    done = cli(
        "serve",
        "--port",
        "0",
        "--state-dir",
        str(tmp_path / "state"),
        "--parameter-overrides",
        override,
        cwd=ROOT,
    )
    assert named in one_sentence(done, 1)


def test_backfill_at_the_local_endpoint_needs_no_aws_configuration(server, tmp_path):
    table = next(
        name for name in aws_client(server.aws, "dynamodb").list_tables()["TableNames"] if "Records" in name
    )
    done = cli("backfill", "--table", table, "--endpoint-url", server.aws, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("backfill: ") and table in done.stdout
    unknown = cli("backfill", "--table", "NoSuchTable", "--endpoint-url", server.aws, cwd=tmp_path)
    assert "there is no table NoSuchTable" in one_sentence(unknown, 1)


def test_version_and_every_argument_has_help(tmp_path):
    version = cli("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("serverless-crud ")
    from serverless_crud_cli.main import _parser

    def walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.Action]]:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}")
            else:
                yield path, action

    for path, action in walk(_parser(), "serverless-crud"):
        assert action.help, f"{path} {action.option_strings or action.dest} has no help text"
