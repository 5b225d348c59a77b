"""`serverless-crud users` and `serverless-crud token` as a user runs them: against the local pool of a
running server (its state directory), against a pool named by id or by a stack's outputs (here the
local AWS endpoint stands in for AWS), and one plain sentence for every failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, aws_client, start_server

pytestmark = pytest.mark.runs_for(20)

PASSWORD = "Sup3r-Secret-Words!"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("cli-users"), signed_in=True)
    yield running
    running.stop()


def state(server: Server) -> str:
    return server.state_dir


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serverless_crud_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def local(server: Server, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return cli(*args, "--state-dir", state(server), stdin=stdin)


def test_add_list_sign_in_and_remove(server: Server) -> None:
    added = local(server, "users", "add", "Erin@Example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert (added.returncode, added.stdout.strip()) == (0, "added erin@example.com to the local user pool")
    admin = local(server, "users", "add", "frank@example.com", "--admin", "--password-stdin", stdin=PASSWORD)
    assert admin.returncode == 0, admin.stderr
    listing = local(server, "users", "list").stdout.splitlines()
    assert "erin@example.com\tCONFIRMED" in listing
    assert "frank@example.com\tCONFIRMED\tadmin" in listing
    assert "admin@example.com\tCONFIRMED\tadmin" in listing  # the local admin of the first start
    token = local(server, "token", "erin@example.com", "--password-stdin", stdin=PASSWORD)
    assert token.returncode == 0, token.stderr
    created = server.request(
        "POST",
        "/records",
        {"email": "erin@example.com", "name": "mine"},
        {"Authorization": token.stdout.strip()},
    )
    assert created.status == 201
    removed = local(server, "users", "remove", "erin@example.com")
    assert removed.returncode == 0
    assert "erin@example.com" not in local(server, "users", "list").stdout
    again = local(server, "token", "erin@example.com", "--password-stdin", stdin=PASSWORD)
    assert (again.returncode, again.stderr) == (
        1,
        "serverless-crud: wrong email or password (or the user is disabled)\n",
    )


@pytest.mark.parametrize(
    ("args", "stdin", "sentence"),
    [
        (
            ("users", "add", "weak@example.com", "--password-stdin"),
            "short",
            "the password does not meet the pool's policy",
        ),
        (
            ("users", "add", "admin@example.com", "--password-stdin"),
            PASSWORD,
            "a user with that email exists already",
        ),
        (("users", "add", "not-an-email", "--password-stdin"), PASSWORD, "not a valid email address"),
        (("users", "add", "empty@example.com", "--password-stdin"), "\n", "the password is empty"),
        (
            ("users", "add", "tty@example.com"),
            "",
            "give the password on standard input with --password-stdin",
        ),
        (("users", "remove", "nobody@example.com"), "", "no user has that email"),
        (("token", "admin@example.com", "--password-stdin"), "Wr0ng-Password!!", "wrong email or password"),
    ],
)
def test_failures_are_one_sentence_and_change_nothing(
    server: Server, args: tuple[str, ...], stdin: str, sentence: str
) -> None:
    before = local(server, "users", "list").stdout
    done = local(server, *args, stdin=stdin)
    assert done.returncode == 1
    assert done.stderr.startswith("serverless-crud: ") and sentence in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert local(server, "users", "list").stdout == before


def test_without_a_local_server_it_says_how_to_start_one(tmp_path: Path) -> None:
    done = cli("users", "list", "--state-dir", str(tmp_path))
    assert (done.returncode, done.stderr) == (
        1,
        f"serverless-crud: no local user pool in {tmp_path} (start it with `make run`, or give --stack)\n",
    )


def _as_aws(server: Server) -> dict[str, str]:
    """The environment of someone pointing the CLI at AWS (here: the local endpoint)."""
    return {
        "AWS_ENDPOINT_URL": server.aws,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_a_pool_by_id_or_by_stack(server: Server) -> None:
    ids = json.loads((Path(state(server)) / "cognito-idp" / "local.json").read_text())
    env = _as_aws(server)
    by_id = cli(
        "users",
        "add",
        "gina@example.com",
        "--password-stdin",
        "--user-pool-id",
        ids["user_pool_id"],
        stdin=PASSWORD,
        env=env,
    )
    assert (by_id.returncode, by_id.stdout.strip()) == (0, f"added gina@example.com to {ids['user_pool_id']}")
    outputs = {
        "UserPoolId": {"Value": ids["user_pool_id"]},
        "UserPoolClientId": {"Value": ids["client_id"]},
    }
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    aws_client(server.aws, "cloudformation", "us-east-1").create_stack(
        StackName="records-prod", TemplateBody=json.dumps(template)
    )
    token = cli(
        "token", "gina@example.com", "--password-stdin", "--stack", "records-prod", stdin=PASSWORD, env=env
    )
    assert token.returncode == 0, token.stderr
    assert server.request("GET", "/records", headers={"Authorization": token.stdout.strip()}).status == 200
    missing = cli("users", "list", "--stack", "no-such-stack", env=env)
    assert missing.stderr == "serverless-crud: no stack named no-such-stack in this account and region\n"
