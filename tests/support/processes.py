"""Child processes of the tests: run one to completion and fail with its output if it fails."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run `args` in the repository root and return its standard output (assert it exits 0)."""
    result = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def last_json_line(output: str) -> Any:
    """The JSON value a child script printed last."""
    return json.loads(output.strip().splitlines()[-1])
