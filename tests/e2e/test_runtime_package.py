"""The local runtime as a distribution of its own: the wheel built from src/serverless_local, installed
alone into a fresh virtual environment, where `serverless-local serve` runs a SAM application.

The fresh environment takes the runtime's dependencies (moto, boto3…) from this environment's
site-packages through a `.pth` line, so the test needs no package index; what it installs from the
wheel, and what it can import, is only the runtime: the application is not on its path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Server, aws_client, eventually, start_app

RUNTIME = ROOT / "src" / "serverless_local"


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runtime's wheel, built from its folder as `pip install ./src/serverless_local` builds it."""
    target = tmp_path_factory.mktemp("runtime-wheel")
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--no-build-isolation", "--wheel-dir", target, RUNTIME,
    )  # fmt: skip
    (built,) = target.glob("serverless_local-*.whl")
    return built


@pytest.fixture(scope="module")
def environment(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; its `bin` directory."""
    venv = tmp_path_factory.mktemp("runtime-venv") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet",
        "--disable-pip-version-check", "--no-deps", "--no-index", wheel,
    )  # fmt: skip
    return venv / "bin"


def test_the_wheel_holds_every_module_of_the_runtime_and_nothing_else(wheel):
    with zipfile.ZipFile(wheel) as opened:
        names = set(opened.namelist())
        entry_points = next(opened.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    shipped = {n for n in names if ".dist-info/" not in n}
    modules = {
        f"serverless_local/{path.relative_to(RUNTIME).as_posix()}"
        for path in RUNTIME.rglob("*.py")
        if "__pycache__" not in path.parts
    }

    assert shipped == modules | {"serverless_local/py.typed"}
    assert "serverless-local = serverless_local.cli:main" in entry_points


def test_the_distribution_pins_the_moto_its_hooks_are_tested_with():
    from serverless_local.embedded_aws import HOOKED_MOTO_VERSION

    project = tomllib.loads((RUNTIME / "pyproject.toml").read_text())["project"]
    locked = (ROOT / "requirements" / "lock.txt").read_text().splitlines()

    assert f"moto[server]=={HOOKED_MOTO_VERSION}" in project["dependencies"]
    assert f"moto=={HOOKED_MOTO_VERSION}" in locked


def test_the_installed_runtime_imports_every_module_and_nothing_of_the_application(environment):
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import serverless_local\n"
        "names = [m.name for m in pkgutil.walk_packages(serverless_local.__path__, 'serverless_local.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(json.dumps({'file': serverless_local.__file__, 'modules': len(names),\n"
        "  'app': importlib.util.find_spec('serverless_crud') is not None,\n"
        "  'app_loaded': sorted(m for m in sys.modules if m.startswith('serverless_crud'))}))\n"
    )
    found = json.loads(run(environment / "python", "-c", script, cwd=environment))

    assert Path(found["file"]).is_relative_to(environment.parent)  # the wheel's copy, not the source
    assert found["modules"] == len(list(RUNTIME.rglob("*.py"))) - 1  # every module but the package's own
    assert found["app"] is False
    assert found["app_loaded"] == []


@pytest.fixture(scope="module")
def installed_server(environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_app(
        tmp_path_factory.mktemp("installed-serve"),
        "queue-worker",
        executable=[str(environment / "serverless-local")],
    )
    yield server
    server.stop()


def test_serverless_local_serve_from_the_installed_package_runs_a_sam_apps_trigger(installed_server):
    sqs: Any = aws_client(installed_server.aws, "sqs")
    queue = sqs.get_queue_url(QueueName="JobsQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"kind": "job", "id": "from-the-wheel"}))

    table: Any = aws_client(installed_server.aws, "dynamodb")
    item = eventually(
        lambda: table.get_item(TableName="DoneTable", Key={"id": {"S": "from-the-wheel"}}).get("Item")
    )
    assert json.loads(item["record"]["S"])["eventSource"] == "aws:sqs"
    assert installed_server.output().startswith("serverless-local: ")
