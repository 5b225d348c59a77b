"""The API against its own OpenAPI document: schemathesis, every check, every phase (examples,
coverage, fuzzing, stateful), against the local server. Settings and the reasons for each
departure from schemathesis' defaults are in tests/e2e/schemathesis.toml and schemathesis_hooks.py.

The seed is fixed so that a run is reproducible; SCHEMATHESIS_SEED=<n> explores another one. The run
against a server started with RequireIfMatch=true is test_openapi_contract_if_match.py (a file of its
own, so that the two runs go to two workers).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, start_server

pytestmark = pytest.mark.runs_for(95)

HERE = Path(__file__).resolve().parent
SEED = os.environ.get("SCHEMATHESIS_SEED", "20260801")


def run_schemathesis(app_server: Server, only: list[str], tmp_path: Path) -> None:
    """Schemathesis against the /openapi.json of `app_server` (restricted by `only`): all pass."""
    st = Path(sys.executable).with_name("st")
    done = subprocess.run(
        [
            str(st),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{app_server.url}/openapi.json",
            *only,
            "--checks",
            "all",
            "--workers",
            "1",
            "--seed",
            SEED,
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,  # schemathesis keeps a cache of its runs in the working directory
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary + done.stderr[-2000:]
    # Warnings (such as generated keys that name no record) are not failures; failures are ❌.
    assert "❌" not in done.stdout and " passed" in done.stdout, summary
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in done.stdout, summary


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app as deployed by default."""
    running = start_server(tmp_path_factory.mktemp("contract"), "--no-fsync")
    yield running
    running.stop()


def test_the_server_keeps_every_promise_of_its_openapi_document(server: Server, tmp_path: Path):
    run_schemathesis(server, [], tmp_path)
