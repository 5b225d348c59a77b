"""The functions' deployment package, as the real `sam build` builds it (each function's artifact,
tests/infra/conftest.py's `sam_build`).

What it must hold: serverless_crud and the wheels of requirements/function.txt for python3.12 on
arm64, every one pinned to the version the tests ran (requirements/lock.txt), less what the function
never uses (scripts/package.py's PRUNED, each claim checked here), every file accounted for, the
bytecode of every module compiled by Python 3.12 (loaded without compiling anything, checked with a
Python 3.12), nothing of the local runtime, the CLI or the tests, and at most 2 MB zipped. botocore
is the Lambda runtime's: the X-Ray SDK is bundled without it, and a build of the same recipe for this
machine proves that tracing still works with only the runtime's botocore beside the package.
Wheels are downloaded once into build/wheels/ (a cache shared with `make package`).
"""

from __future__ import annotations

import _imp
import ast
import base64
import glob
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.processes import last_json_line, run

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from package import BUILD_ONLY, PRUNED, PRUNED_DISTRIBUTIONS, ZIPPED_LIMIT

from .conftest import TEMPLATE_PATH, load_template
from .sam import makefile_functions

pytestmark = pytest.mark.runs_for(25)

CODE = ROOT / "src" / "serverless_crud"
#: CPython 3.12's .pyc magic number (its hash-based .pyc files key their source hash with it).
MAGIC_312 = (3531).to_bytes(2, "little") + b"\r\n"
FUNCTIONS = sorted(makefile_functions(load_template(TEMPLATE_PATH.read_text())))
#: Distributions a bundled wheel requires that the package leaves out, and why.
NOT_SHIPPED = {"dnspython": "email-validator needs it only for deliverability checks, never made"}
#: What the Lambda Python runtime provides, so the package must not (botocore with its own
#: dependencies; snapshot-restore-py, which calls SnapStart's hooks).
RUNTIME_PROVIDED = {"botocore", "snapshot-restore-py"}
BOTOCORE_AND_ITS_DEPENDENCIES = [
    "botocore",
    "dateutil",
    "urllib3",
    "six.py",
    "jmespath",
    "snapshot_restore_py.py",
]
#: The marker environment of the function: python3.12 on arm64 Linux.
LAMBDA_MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "extra": "",
}


def build(artifacts: Path, **variables: str) -> Path:
    """Run the make target SAM runs, into `artifacts`."""
    overrides = [f"{name}={value}" for name, value in variables.items()]
    run(
        ["make", "--no-print-directory", "build-RecordsFunction", f"ARTIFACTS_DIR={artifacts}", *overrides],
        timeout=300,
    )
    return artifacts


@pytest.fixture(params=FUNCTIONS)
def package(request: pytest.FixtureRequest, sam_build: Path) -> Path:
    """A function's artifact for python3.12/arm64, as `sam build` leaves it in .aws-sam/build/<name>."""
    return sam_build / str(request.param)


def _pins(path: Path) -> dict[str, str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    pairs = (line.split("==", 1) for line in lines if line)
    return {canonicalize_name(name): version for name, version in pairs}


def _distributions(package: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Each installed distribution: its .dist-info folder and its METADATA headers."""
    found = {}
    for info in sorted(package.glob("*.dist-info")):
        metadata = Parser().parsestr((info / "METADATA").read_text())
        found[canonicalize_name(metadata["Name"])] = (info, metadata)
    return found


def _files(directory: Path) -> Iterator[Path]:
    return (path for path in directory.rglob("*") if path.is_file())


# -- what is in it ---------------------------------------------------------------------------------
def test_the_function_code_is_all_of_serverless_crud_and_nothing_else(package: Path) -> None:
    shipped = {
        p.relative_to(package / "serverless_crud")
        for p in _files(package / "serverless_crud")
        if "__pycache__" not in p.parts
    }
    source = {
        p.relative_to(CODE)
        for p in _files(CODE)
        if "__pycache__" not in p.parts
        and p.suffix != ".pyc"
        and p.relative_to(CODE).as_posix() not in BUILD_ONLY
    }
    assert shipped == source
    for relative in shipped:
        assert (package / "serverless_crud" / relative).read_bytes() == (CODE / relative).read_bytes()


def test_nothing_of_the_local_runtime_cli_tests_or_runtime_libraries(package: Path) -> None:
    top_level = {entry.name for entry in package.iterdir()}
    for absent in ("serverless_local", "serverless_crud_cli", "tests", "bench", "scripts", "src", "bin"):
        assert absent not in top_level
    for provided in ("botocore", "boto3", "s3transfer", "urllib3", "dateutil", "snapshot_restore_py.py"):
        assert provided not in top_level


def _wheel_sources() -> dict[str, bytes]:
    """Every Python source file of the downloaded python3.12/arm64 wheels, by its path in the package."""
    sources = {}
    for wheel in (ROOT / "build" / "wheels" / "cp312-aarch64").glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".py"):
                    sources[name] = archive.read(name)
    return sources


def _source_hash_312(source: bytes) -> bytes:
    """The source hash a CPython 3.12 hash-based .pyc records for `source`."""
    return _imp.source_hash(int.from_bytes(MAGIC_312, "little"), source)


def _hash_based_pyc(path: Path) -> bytes:
    """The recorded source hash of a 3.12 unchecked hash-based .pyc (asserting that it is one)."""
    header = path.read_bytes()[:16]
    assert header[:4] == MAGIC_312, f"{path} was not compiled by Python 3.12"
    assert int.from_bytes(header[4:8], "little") == 0b01, f"{path} is not an unchecked hash-based .pyc"
    return header[8:16]


def test_every_file_is_the_code_or_recorded_by_a_pinned_wheel(package: Path) -> None:
    recorded: dict[str, str] = {}
    for info, _ in _distributions(package).values():
        for line in (info / "RECORD").read_text().splitlines():
            path, digest, _size = line.rsplit(",", 2)
            recorded[path] = digest
    sources = _wheel_sources()
    for path in _files(package):
        relative = path.relative_to(package).as_posix()
        if relative.startswith("serverless_crud/"):
            continue  # compared with the source above
        if path.suffix == ".pyc":  # a dependency's module shipped as its bytecode, in its source's place
            source = relative.removesuffix("c")
            assert source in recorded, f"{relative} stands for no module of an installed wheel"
            assert _hash_based_pyc(path) == _source_hash_312(sources[source]), f"{relative}: another source"
            continue
        assert relative in recorded, f"{relative} belongs to no installed wheel"
        if relative.endswith(".dist-info/RECORD"):
            continue  # the one file a RECORD cannot hash
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
        assert recorded[relative] == f"sha256={digest}", f"{relative} differs from its wheel"


def test_every_distribution_is_pinned_to_the_version_the_tests_ran(package: Path) -> None:
    wanted = _pins(ROOT / "requirements/function.txt")
    locked = _pins(ROOT / "requirements/lock.txt")
    installed = {name: metadata["Version"] for name, (_, metadata) in _distributions(package).items()}
    assert installed == {
        name: version for name, version in wanted.items() if name not in PRUNED_DISTRIBUTIONS
    }
    assert {name: locked[name] for name in wanted} == wanted


def test_the_set_is_complete_with_what_the_runtime_provides(package: Path) -> None:
    """Every run-time requirement of every bundled wheel is bundled, or comes with the runtime."""
    distributions = _distributions(package)
    for name, (_, metadata) in distributions.items():
        for line in metadata.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(LAMBDA_MARKERS):
                continue
            needed = canonicalize_name(requirement.name)
            if needed in RUNTIME_PROVIDED or needed in NOT_SHIPPED:
                continue
            assert needed in distributions, f"{name} needs {requirement}, which the package lacks"
            version = Version(distributions[needed][1]["Version"])
            assert requirement.specifier.contains(version, prereleases=True), f"{name} needs {requirement}"


def test_compiled_code_is_for_python312_on_arm64(package: Path) -> None:
    extensions = list(package.rglob("*.so"))
    assert extensions, "wrapt is compiled: its extension must be here"
    assert all(p.name.endswith(".cpython-312-aarch64-linux-gnu.so") for p in extensions), extensions
    for info, _ in _distributions(package).values():
        tags = [
            line.split(": ", 1)[1]
            for line in (info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")
        ]
        assert all(
            t.endswith("-none-any") or (t.startswith("cp312-cp312-") and t.endswith("_aarch64")) for t in tags
        )


def test_the_package_is_at_most_2_mb_zipped(package: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:  # as `sam deploy` zips it
        for path in sorted(_files(package)):
            archive.write(path, path.relative_to(package).as_posix())
    assert buffer.tell() <= ZIPPED_LIMIT, f"{buffer.tell() / 1024 / 1024:.2f} MB zipped"


def test_make_package_builds_the_zip_and_reports_its_size(tmp_path: Path) -> None:
    zip_path = tmp_path / "function.zip"
    output = run(
        [
            "make",
            "--no-print-directory",
            "package",
            f"PACKAGE_DIR={tmp_path / 'function'}",
            f"PACKAGE_ZIP={zip_path}",
        ],
        timeout=300,
    )
    megabytes = f"{zip_path.stat().st_size / 1024 / 1024:.2f} MB zipped (within the 2.00 MB limit)"
    assert f"{zip_path}: {megabytes}" in output
    for part in ("aws_lambda_powertools", "email_validator", "serverless_crud"):
        assert f"\n  {part} " in output
    with zipfile.ZipFile(zip_path) as archive:
        assert "serverless_crud/handler.py" in archive.namelist()


# -- tracing without a bundled botocore ------------------------------------------------------------
TRACED_REQUEST = r"""
import json, sys
package, runtime, event_path = sys.argv[1:4]
sys.path[:0] = [package, runtime]  # /var/task first, then the runtime's own libraries

from serverless_crud.handler import lambda_handler
from serverless_crud.dal.clients import client
from botocore.stub import Stubber

class Context:
    function_name = "serverless-crud-RecordsFunction"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name + ":live"
    memory_limit_in_mb = 512
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    def get_remaining_time_in_millis(self):
        return 10_000

stubber = Stubber(client("dynamodb"))
stubber.add_response("put_item", {})
stubber.activate()
with open(event_path) as file:
    response = lambda_handler(json.load(file), Context())
stubber.assert_no_pending_responses()
names = ["serverless_crud", "aws_xray_sdk", "aws_lambda_powertools", "email_validator", "wrapt", "botocore"]
assert "pydantic" not in sys.modules
print(json.dumps({"status": response["statusCode"], "files": {n: sys.modules[n].__file__ for n in names}}))
"""


@pytest.fixture(scope="module")
def host_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same recipe for this machine's interpreter and architecture, so that it can run here."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return build(
        tmp_path_factory.mktemp("host-build") / "RecordsFunction",
        FUNCTION_PYTHON=python,
        FUNCTION_ARCH=os.uname().machine,
    )


@pytest.fixture
def lambda_runtime_libraries(tmp_path: Path) -> Path:
    """A folder with only what the Lambda runtime adds: botocore, its dependencies, snapshot-restore-py."""
    import botocore

    site_packages = Path(botocore.__file__).resolve().parents[1]
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in BOTOCORE_AND_ITS_DEPENDENCIES:
        (runtime / name).symlink_to(site_packages / name)
    return runtime


def test_tracing_works_with_the_runtimes_botocore(
    host_package: Path, lambda_runtime_libraries: Path, tmp_path: Path
) -> None:
    from tests.support.events import rest_event

    event_path = tmp_path / "event.json"
    event_path.write_text(
        json.dumps(rest_event("POST", "/records", body={"email": "x@example.com", "name": "X"}))
    )
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # stands in for the X-Ray daemon
    daemon.bind(("127.0.0.1", 0))
    daemon.settimeout(10)
    env = {
        "PATH": os.environ["PATH"],
        "LAMBDA_TASK_ROOT": str(host_package),
        "AWS_LAMBDA_FUNCTION_NAME": "serverless-crud-RecordsFunction",
        "_X_AMZN_TRACE_ID": "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1",
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
        "TRACING_ENABLED": "true",
        "TABLE_NAME": "records",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "CURSOR_SECRET": "a-test-key",
        "AUTH_MODE": "none",  # the open mode: this is about tracing, not sign-in
    }
    # -I -S: none of this machine's site-packages; only the package and the runtime's libraries.
    script = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        TRACED_REQUEST,
        str(host_package),
        str(lambda_runtime_libraries),
        str(event_path),
    ]
    outcome = last_json_line(run(script, env=env))
    assert outcome["status"] == 201
    files = outcome["files"]
    assert files.pop("botocore").startswith(str(lambda_runtime_libraries))
    assert all(path.startswith(str(host_package)) for path in files.values()), files

    documents = []
    try:
        while True:
            documents.append(json.loads(daemon.recv(65536).split(b"\n", 1)[1]))
    except TimeoutError:
        pass
    finally:
        daemon.close()
    # Subsegments sent to the daemon: the handler's, and the DynamoDB call through botocore.
    calls = [(d["name"], d.get("namespace"), d.get("aws", {}).get("operation")) for d in documents]
    assert ("## lambda_handler", "local", None) in calls, documents
    assert ("dynamodb", "aws", "PutItem") in calls, documents


def test_no_shipped_module_imports_pydantic(package: Path) -> None:
    """The record's pydantic definition is build-time source; the function validates with schemas.json."""

    for path in (package / "serverless_crud").rglob("*.py"):
        tree = ast.parse(path.read_text())
        nodes = list(ast.walk(tree))
        imported = {a.name.split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names}
        imported |= {(n.module or "").split(".")[0] for n in nodes if isinstance(n, ast.ImportFrom)}
        assert "pydantic" not in imported, path


# -- bytecode compiled by the function's Python ----------------------------------------------------
def python312() -> str:
    """A CPython 3.12 to load the package with: $PYTHON312, python3.12 on PATH, or pyenv's."""
    candidates = [
        os.environ.get("PYTHON312"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")), reverse=True),
        shutil.which("python3.12"),
    ]

    def runs(candidate: str | None) -> bool:
        if not candidate or not os.access(candidate, os.X_OK):
            return False
        check = [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"]
        return subprocess.run(check, capture_output=True, check=False).returncode == 0

    found = next((c for c in candidates if runs(c)), None)
    assert found, "no CPython 3.12 here to load the package with: install one or set PYTHON312"
    return found


LOAD_FROM_BYTECODE = r"""
import json, os, sys
package, runtime = sys.argv[1:3]
compiled = []  # the package's source files compiled at import
def seen(event, args):
    if event == "compile" and str(args[1]).startswith(package):
        compiled.append(str(args[1]))
sys.addaudithook(seen)
compile("x = 1", package + "/control.py", "exec")  # the hook sees a compilation
assert compiled == [package + "/control.py"], compiled
compiled.clear()
sys.path[:0] = [package, runtime]
import serverless_crud.handler, serverless_crud.tasks
from serverless_crud.models.keys import normalise_email
assert normalise_email("Ann@Example.COM") == "ann@example.com"  # email-validator, without dnspython
loaded = {
    name: (module.__file__, getattr(module.__spec__, "cached", None))
    for name, module in sys.modules.items()
    if (getattr(module, "__file__", None) or "").startswith(package)
}
print(json.dumps({"version": list(sys.version_info[:2]), "compiled": compiled, "loaded": loaded}))
"""


def test_the_modules_load_from_bytecode_that_python312_compiled(
    package: Path, lambda_runtime_libraries: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "TABLE_NAME": "records",
        "AWS_REGION": "us-east-1",
        "AUTH_MODE": "none",
    }
    script = [python312(), "-I", "-S", "-c", LOAD_FROM_BYTECODE, str(package), str(lambda_runtime_libraries)]
    outcome = last_json_line(run(script, env=env))
    assert outcome["version"] == [3, 12]
    assert outcome["compiled"] == [], "modules of the package were compiled at import"
    loaded = outcome["loaded"]
    assert len(loaded) > 100 and "serverless_crud.handler" in loaded and "aws_lambda_powertools" in loaded
    for name, (file, cached) in loaded.items():
        if name.startswith("serverless_crud"):
            assert cached and Path(cached).is_file(), name  # its __pycache__ .pyc, the source beside it
            assert _hash_based_pyc(Path(cached)) == _source_hash_312(Path(file).read_bytes()), name
        else:
            assert file.endswith(".pyc"), f"{name} was loaded from source"


def test_every_module_has_its_bytecode_and_tracebacks_name_lambdas_paths(package: Path) -> None:
    for source in (package / "serverless_crud").rglob("*.py"):
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        assert _hash_based_pyc(cached) == _source_hash_312(source.read_bytes()), source
    assert not [p for p in package.rglob("*.py") if not p.is_relative_to(package / "serverless_crud")]
    pyc = (package / "serverless_crud" / "__pycache__" / "handler.cpython-312.pyc").read_bytes()
    assert b"/var/task/serverless_crud/handler.py" in pyc


# -- what is left out, and why ---------------------------------------------------------------------
def _module_name(relative: str) -> str:
    return relative.removesuffix(".py").replace("/", ".")


def test_each_module_left_out_as_unused_is_imported_by_no_module_of_the_package() -> None:
    import modulefinder

    finder = modulefinder.ModuleFinder(path=[str(ROOT / "src"), *sys.path])
    for entry in ("handler.py", "tasks.py"):
        finder.run_script(str(CODE / entry))
    unused = [_module_name(p) for p, why in PRUNED.items() if "no module of the package imports it" in why]
    assert unused
    for name in finder.modules:
        assert not any(name == u or name.startswith(u + ".") for u in unused), f"{name} is imported"


BLOCKED_IMPORT = r"""
import importlib, importlib.abc, json, sys
allowed = set(json.loads(sys.argv[1]))
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in allowed or top in sys.stdlib_module_names or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"No module named {top!r}", name=top)
sys.meta_path.insert(0, Absent())
failures = {}
for module in json.loads(sys.argv[2]):
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        failures[module] = error.name
print(json.dumps(failures))
"""


def test_each_module_left_out_as_needing_a_missing_library_cannot_import_in_the_function(
    package: Path,
) -> None:
    """Imported with only the package's distributions and the runtime's libraries, it fails."""
    needing = [_module_name(p) for p, why in PRUNED.items() if why.startswith("needs")]
    needing += [_module_name(p) for p, why in PRUNED.items() if "(and needs" in why]
    bundled = {
        entry.name.split(".")[0] for entry in package.iterdir() if not entry.name.endswith(".dist-info")
    }
    runtime = {name.split(".")[0] for name in BOTOCORE_AND_ITS_DEPENDENCIES} | {"boto3", "s3transfer"}
    allowed = json.dumps(sorted((bundled | runtime) - {"__pycache__"}))
    # The unpruned distributions, as this machine's environment has them (the same pinned versions).
    failures = json.loads(run([sys.executable, "-c", BLOCKED_IMPORT, allowed, json.dumps(needing)]))
    assert set(failures) == set(needing), set(needing) - set(failures)
