"""The local server as a user runs it: `serverless-crud serve` in a subprocess, on free ports."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_TEMPLATE = ROOT / "template.yaml"
PROBE_TEMPLATE = Path(__file__).resolve().parent / "template.yaml"
BANNER = re.compile(r"API (http://[\d.]+:\d+)/ .*AWS (http://[\d.]+:\d+)")
START_LIMIT_SECONDS = 60  # a guard against a hung start, not a performance assertion


@dataclass
class Reply:
    """An HTTP response as the client saw it."""

    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)


@dataclass
class Server:
    """A running `serverless-crud serve` subprocess."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    #: The one local AWS endpoint (every embedded service); `dynamodb` is the same URL.
    aws: str = ""
    args: list[str] = field(default_factory=list)

    @property
    def dynamodb(self) -> str:
        """The DynamoDB endpoint: the local AWS endpoint."""
        return self.aws

    @property
    def state_dir(self) -> str:
        """The server's state directory (`--state-dir`)."""
        return self.args[self.args.index("--state-dir") + 1]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, limit: float = START_LIMIT_SECONDS * 2) -> None:
        """Wait until the server has printed `text` (a guard against a hang, not a timing assertion)."""
        deadline = time.monotonic() + limit
        while text not in self.output():
            assert time.monotonic() < deadline, f"the server never printed {text!r}:\n{self.output()}"
            time.sleep(0.1)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        headers = dict(headers or {})
        if body is not None and not isinstance(body, bytes):
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read())

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=START_LIMIT_SECONDS)


def aws_client(endpoint: str, service: str, region: str = "eu-west-1", key: str = "AKIDLOCAL") -> Any:
    """A boto3 client of `service` at the local AWS endpoint (any region and credentials do)."""
    import boto3

    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key, aws_secret_access_key="x"
    )


#: The app without sign-in (AuthMode=none): what every test that is not about identity runs against.
OPEN_MODE = ("--parameter-overrides", "AuthMode=none")


def start_server(
    tmp_path: Path,
    *args: str,
    template: Path = APP_TEMPLATE,
    state: Path | None = None,
    signed_in: bool = False,
    program: str = "serverless_crud_cli",
    cwd: Path = ROOT,
    executable: Sequence[str] | None = None,
) -> Server:
    """Start the server and wait for its banner (it names the ports it bound). The app runs in the
    open mode unless `signed_in` (the template's default, AuthMode=cognito). `program`: the module
    whose `serve` runs it (`serverless_local.cli` for `serverless-local serve`), unless `executable`
    names the command itself (an installed console script)."""
    if template == APP_TEMPLATE and not signed_in:
        args = (*OPEN_MODE, *args)
    log = tmp_path / f"server-{time.monotonic_ns()}.log"
    command = [
        *(executable or (sys.executable, "-m", program)),
        "serve",
        "--port",
        "0",
        *(("--template", str(template)) if cwd == ROOT else ()),
        "--state-dir",
        str(state or tmp_path / "state"),
        *args,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd, env=os.environ)
    server = Server(process, log, args=command)
    deadline = time.monotonic() + START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        match = BANNER.search(server.output())
        if match:
            server.url, server.aws = match.groups()
            return server
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.output()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"the server did not start:\n{server.output()}")


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app from template.yaml, with an empty state directory."""
    server = start_server(tmp_path_factory.mktemp("app"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The probe functions of tests/e2e/template.yaml; the gateway gives up after 3 s (a 1 s function
    timing out, its instance started afresh, stays well within it on a busy machine)."""
    server = start_server(
        tmp_path_factory.mktemp("probe"), "--integration-timeout", "3", template=PROBE_TEMPLATE
    )
    yield server
    server.stop()


APPS = ROOT / "tests" / "apps"


def start_app(
    tmp_path: Path,
    name: str,
    *args: str,
    state: Path | None = None,
    executable: Sequence[str] | None = None,
) -> Server:
    """`serverless-local serve` in the folder of one of the SAM applications of tests/apps (its template
    found there, as SAM finds it; fsync off: throw-away data); `executable`: an installed
    `serverless-local` rather than this environment's."""
    folder = APPS / name
    template = next(folder / t for t in ("template.yaml", "template.yml") if (folder / t).exists())
    return start_server(
        tmp_path,
        "--no-fsync",
        *args,
        template=template,
        state=state or tmp_path / "state",
        program="serverless_local.cli",
        cwd=folder,
        executable=executable,
    )


def eventually(check: Any, *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """`check()`'s first truthy result; AssertionError with its last result if none comes in `timeout`
    seconds (a guard against waiting forever for an asynchronous effect, not a speed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still {result!r} after {timeout} s")
        time.sleep(interval)
