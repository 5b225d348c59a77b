"""The API against its own OpenAPI document: schemathesis, every check, every phase (examples,
coverage, fuzzing, stateful), against the local server. Settings and the reasons for each
departure from schemathesis' defaults are in tests/e2e/schemathesis.toml and schemathesis_hooks.py.

The seed is fixed so that a run is reproducible; SCHEMATHESIS_SEED=<n> explores another one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Server, start_server

HERE = Path(__file__).resolve().parent
SEED = os.environ.get("SCHEMATHESIS_SEED", "20260801")


#: RequireIfMatch=true changes the document and the answers of the records' operations only.
ONLY = {"default": [], "if-match-required": ["--include-path-regex", "^/records"]}


@pytest.fixture(scope="module", params=list(ONLY))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, list[str]]]:
    """The app as deployed by default, and with RequireIfMatch=true (its document differs)."""
    overrides = ["--parameter-overrides", "RequireIfMatch=true"] if request.param != "default" else []
    running = start_server(tmp_path_factory.mktemp("contract"), "--no-fsync", *overrides)
    yield running, ONLY[request.param]
    running.stop()


def test_the_server_keeps_every_promise_of_its_openapi_document(
    server: tuple[Server, list[str]], tmp_path: Path
):
    app_server, only = server
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
