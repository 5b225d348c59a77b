"""The function's deployment package: built by `make package` (the target `sam build` runs), then
measured: zipped (deflate at its default level, as `sam deploy` zips), unpacked, and by part (each
top-level package or module of the zip; the distributions' metadata together).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.report import Check, Table

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Deployment package: make package (what sam build builds)"


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.2f}"


def measure() -> dict[str, Any]:
    """Build the package and its zip in a scratch directory; the sizes report of scripts/package.py."""
    with tempfile.TemporaryDirectory() as scratch:
        package, zip_path = Path(scratch) / "function", Path(scratch) / "function.zip"
        subprocess.run(
            ["make", "--no-print-directory", "package", f"PACKAGE_DIR={package}", f"PACKAGE_ZIP={zip_path}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        report = subprocess.run(
            [sys.executable, "scripts/package.py", "report", str(package), str(zip_path), "--json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    measured: dict[str, Any] = json.loads(report.stdout)
    return measured


def run(options: Any = None) -> list[Table]:
    """Two tables: the package in all (against the 2 MB target), and its largest parts."""
    report = measure()
    zipped, limit = report["zipped"], report["zipped_limit"]
    total = Table(
        title="Deployment package (python3.12, arm64)",
        columns=["measurement", "MB", "files"],
        rows=[
            ["zipped (what is uploaded)", _mb(zipped), str(report["files"])],
            ["unpacked (what Lambda extracts)", _mb(report["unpacked"]), str(report["files"])],
        ],
        notes=[
            "serverless_crud and the wheels of requirements/function.txt; botocore and snapshot-restore-py "
            "come with the Lambda runtime and are not bundled"
        ],
        checks=[Check("package zipped / 2 MB", zipped / limit, 1.0)],
        data=report,
    )
    parts = Table(
        title="Deployment package: largest parts",
        columns=["part", "zipped MB", "unpacked MB", "files", "share of the zip"],
        rows=[
            [
                name,
                _mb(part["zipped"]),
                _mb(part["unpacked"]),
                str(part["files"]),
                f"{part['zipped'] / zipped:.0%}",
            ]
            for name, part in report["parts"].items()
        ],
    )
    return [total, parts]
