"""The API against its own OpenAPI document: schemathesis, every check, every phase (examples,
coverage, fuzzing, stateful), against the local server. Settings and the reasons for each
departure from schemathesis' defaults are in tests/e2e/schemathesis.toml and schemathesis_hooks.py.

The seed is fixed so that a run is reproducible; SCHEMATHESIS_SEED=<n> explores another one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT, Server

HERE = Path(__file__).resolve().parent
SEED = os.environ.get("SCHEMATHESIS_SEED", "20260801")


def test_the_server_keeps_every_promise_of_its_openapi_document(app_server: Server, tmp_path: Path):
    st = Path(sys.executable).with_name("st")
    done = subprocess.run(
        [
            str(st),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{app_server.url}/openapi.json",
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
    assert "No issues found" in done.stdout, summary
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in done.stdout, summary
