"""The function's deployment package: build it, zip it, report its size.

Used by `make build-<Name>Function` (what `sam build` runs for every function of the package) and
`make package`; the standard library only, so that any Python 3 with venv and pip builds the package.

    python scripts/package.py build DEST [--python 3.12 --arch aarch64 --requirements FILE]
                                                     the package into DEST (built once, then copied)
    python scripts/package.py zip DIR ZIP            DIR as a reproducible zip
    python scripts/package.py report DIR ZIP [--json]   sizes: zipped, unpacked, largest parts

The package is built once per set of inputs into build/function-package/ (under a lock, so that
`sam build --parallel` may run the functions' builds at once) and copied into each function's
ARTIFACTS_DIR: the wheels pinned in requirements/function.txt for the function's Python and
architecture, less what the function never uses (PRUNED), `src/serverless_crud`, and the bytecode
of every module compiled by the function's Python, so that Lambda's read-only file system never
compiles a module at a cold start.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import py_compile
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "src" / "serverless_crud"
BUILD = ROOT / "build"
#: Source that only the build uses: the record's pydantic definition, from which `make schemas` writes
#: models/schemas.json, the file the function validates with (pydantic is not in the package).
BUILD_ONLY = frozenset({"models/record.py"})
#: What the pinned wheels hold that the function never uses, left out of the package, and why. A
#: module "needs X" when importing it fails without X, which neither the package nor the Lambda runtime
#: has: it can never run in the function (tests/infra/test_package.py checks each such claim).
_NEEDS_PYDANTIC = "needs pydantic, which the function does not bundle"
PRUNED = {
    "bin": "the dependencies' console scripts: nothing in Lambda runs them",
    "dns": "dnspython: email-validator imports it only for deliverability checks (DNS lookups), "
    "which the function never asks for",
    "email_validator/deliverability.py": "needs dnspython (deliverability checks)",
    "email_validator/__main__.py": "needs dnspython (the command line's deliverability checks)",
    "wrapt/_wrappers.c": "C source of the compiled extension beside it",
    "wrapt-stubs": "type stubs, read by type checkers only",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui": "Powertools' copy of Swagger UI (and "
    + _NEEDS_PYDANTIC
    + "): the function serves its own (serverless_crud/ui/static/vendor/swagger-ui)",
    "aws_lambda_powertools/event_handler/openapi/compat.py": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/event_handler/openapi/dependant.py": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/event_handler/openapi/encoders.py": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/event_handler/openapi/models.py": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/event_handler/openapi/params.py": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/event_handler/middlewares/openapi_validation.py": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/event_handler/middlewares/schema_validation.py": "needs fastjsonschema",
    "aws_lambda_powertools/utilities/parser": _NEEDS_PYDANTIC,
    "aws_lambda_powertools/utilities/validation": "needs fastjsonschema",
    "aws_lambda_powertools/utilities/data_masking": "needs jsonpath-ng and the AWS Encryption SDK",
    "aws_lambda_powertools/utilities/idempotency/persistence/cache.py": "needs redis",
    "aws_lambda_powertools/utilities/idempotency/persistence/redis.py": "needs redis",
    "aws_lambda_powertools/utilities/idempotency/serialization/pydantic.py": _NEEDS_PYDANTIC,
    **{
        f"aws_lambda_powertools/utilities/{name}": f"Powertools' {what}: no module of the package imports it"
        for name, what in {
            "auth_alpha": "authentication helpers",
            "batch": "batch processing",
            "circuit_breaker": "circuit breaker",
            "feature_flags": "feature flags",
            "kafka": "Kafka consumer",
            "parameters": "parameters (SSM, Secrets Manager, AppConfig)",
            "streaming": "S3 streaming",
        }.items()
    },
    **{
        f"aws_xray_sdk/ext/{name}": f"X-Ray's instrumentation of {library}, which the function does not use"
        for name, library in {
            "aiobotocore": "aiobotocore",
            "aiohttp": "aiohttp",
            "bottle": "Bottle",
            "django": "Django",
            "flask": "Flask",
            "flask_sqlalchemy": "Flask-SQLAlchemy",
            "httpx": "HTTPX",
            "mysql": "MySQL Connector",
            "pg8000": "pg8000",
            "pymongo": "PyMongo",
            "pymysql": "PyMySQL",
            "pynamodb": "PynamoDB",
            "sqlalchemy": "SQLAlchemy",
            "sqlalchemy_core": "SQLAlchemy",
        }.items()
    },
}
#: Distributions whose files are all pruned; their metadata goes too.
PRUNED_DISTRIBUTIONS = frozenset({"dnspython"})
#: Where Lambda puts the package: the path the bytecode records for tracebacks.
TASK_ROOT = "/var/task"
#: Lambda's limit on a zip uploaded directly is 50 MB; this project holds itself to 2 MB.
ZIPPED_LIMIT = 2 * 1024 * 1024
#: The Python whose compiler writes the function's bytecode when this interpreter is another version:
#: CPython compiled to WebAssembly (Pyodide, pinned in package-lock.json), run by Node.
BYTECODE_COMPILERS = {"3.12": ["node", str(ROOT / "scripts" / "compile_bytecode.mjs")]}
#: The zip's timestamps: fixed, so that the same files always make the same zip.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def wheel_options(python: str, arch: str) -> list[str]:
    """pip's options for wheels of CPython `python` on Linux `arch` (Lambda: Amazon Linux 2023, glibc
    2.34)."""
    abi = "cp" + python.replace(".", "")
    platforms = [f"--platform={tag}_{arch}" for tag in ("manylinux2014", "manylinux_2_28", "manylinux_2_34")]
    return [
        "--only-binary=:all:",
        "--no-deps",
        "--implementation=cp",
        f"--python-version={python}",
        f"--abi={abi}",
        *platforms,
    ]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (concurrent builds wait, then find the work done)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def digest(*parts: bytes | Path) -> str:
    """A SHA-256 of byte strings and files (a file: its path under the root and its bytes)."""
    hashed = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            name = part.relative_to(ROOT) if part.is_relative_to(ROOT) else part
            hashed.update(name.as_posix().encode() + b"\0" + part.read_bytes())
        else:
            hashed.update(part + b"\0")
    return hashed.hexdigest()


def _source_files() -> list[Path]:
    return [path for path in files(CODE) if "__pycache__" not in path.parts and path.suffix != ".pyc"]


def _pip(*arguments: str) -> None:
    """Run the build's own pip (a venv in build/pip: the building Python may have no pip of its own)."""
    python = BUILD / "pip" / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BUILD / "pip")], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet", *arguments], check=True
    )


def _replace(built: Path, target: Path) -> None:
    """Put the finished `built` in `target`'s place."""
    if target.exists():
        shutil.rmtree(target)
    built.rename(target)


def download_wheels(requirements: Path, python: str, arch: str) -> Path:
    """The pinned wheels for `python` on `arch`, downloaded once into build/wheels/ (offline afterwards)."""
    wheels = BUILD / "wheels" / f"cp{python.replace('.', '')}-{arch}"
    key = digest(requirements, python.encode(), arch.encode())
    stamp = wheels / ".complete"
    if stamp.exists() and stamp.read_text() == key:
        return wheels
    fresh = wheels.with_name(wheels.name + ".partial")
    shutil.rmtree(fresh, ignore_errors=True)
    _pip("download", *wheel_options(python, arch), "--dest", str(fresh), "-r", str(requirements))
    (fresh / ".complete").write_text(key)
    _replace(fresh, wheels)
    return wheels


def prune(package: Path) -> None:
    """Remove what PRUNED names, and the metadata of the distributions pruned whole."""
    for relative in PRUNED:
        path = package / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            raise SystemExit(f"package.py: {relative} is not in the package: update PRUNED")
    for info in package.glob("*.dist-info"):
        if info.name.split("-", 1)[0].lower() in PRUNED_DISTRIBUTIONS:
            shutil.rmtree(info)


def compile_bytecode(package: Path, python: str) -> None:
    """Compile every module of `package` with Python `python`'s compiler: unchecked hash-based .pyc files
    (the import system never reads the source to check them), recording /var/task paths."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python == running:
        import compileall

        ok = compileall.compile_dir(
            package,
            ddir=TASK_ROOT,
            quiet=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise SystemExit(f"package.py: a module of {package} does not compile")
        return
    if python not in BYTECODE_COMPILERS:
        raise SystemExit(f"package.py: no Python {python} to compile the package's bytecode with")
    subprocess.run([*BYTECODE_COMPILERS[python], str(package), TASK_ROOT], check=True)


def sourceless(package: Path) -> None:
    """Replace each dependency's source with its bytecode, where the import system loads it from
    (module.pyc beside its package); the function's own modules keep their source for tracebacks."""
    for cache in sorted(package.rglob("__pycache__")):
        if cache.relative_to(package).parts[0] == CODE.name:
            continue
        for compiled in cache.glob("*.pyc"):
            module = compiled.name.split(".", 1)[0]
            source = cache.parent / f"{module}.py"
            if source.exists():
                source.unlink()
                compiled.rename(cache.parent / f"{module}.pyc")
        if not any(cache.iterdir()):
            cache.rmdir()


def build(dest: Path, requirements: Path, python: str, arch: str) -> None:
    """Build the package for `python` on `arch` once per set of inputs, and copy it into `dest`."""
    cache = BUILD / "function-package" / f"cp{python.replace('.', '')}-{arch}"
    with locked(cache.with_name(cache.name + ".lock")):
        key = digest(
            requirements,
            Path(__file__).resolve(),
            ROOT / "scripts" / "compile_bytecode.mjs",
            ROOT / "package-lock.json",
            python.encode(),
            arch.encode(),
            *_source_files(),
        )
        stamp = cache / ".complete"
        if not (stamp.exists() and stamp.read_text() == key):
            wheels = download_wheels(requirements, python, arch)
            fresh = cache.with_name(cache.name + ".partial")
            shutil.rmtree(fresh, ignore_errors=True)
            _pip(
                "install",
                "--no-index",
                f"--find-links={wheels}",
                "--no-compile",
                *wheel_options(python, arch),
                f"--target={fresh}",
                "-r",
                str(requirements),
            )
            prune(fresh)
            copy_code(fresh)
            compile_bytecode(fresh, python)
            sourceless(fresh)
            (fresh / ".complete").write_text(key)
            _replace(fresh, cache)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(cache, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))


def copy_code(dest: Path) -> None:
    """Copy the function's package into `dest`, leaving out bytecode caches and build-only source."""
    target = dest / CODE.name
    if target.exists():
        shutil.rmtree(target)
    caches = shutil.ignore_patterns("__pycache__", "*.pyc")

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(CODE)
        build_only = {name for name in names if (relative / name).as_posix() in BUILD_ONLY}
        return set(caches(folder, names)) | build_only

    shutil.copytree(CODE, target, ignore=ignore)


def files(directory: Path) -> list[Path]:
    """Every file under `directory`, in a stable order."""
    return sorted(path for path in directory.rglob("*") if path.is_file())


def write_zip(directory: Path, zip_path: Path) -> None:
    """Zip `directory` as `sam deploy` does (deflate, default level): sorted, fixed times, mode 644."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files(directory):
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, path.read_bytes())


def _part(name: str) -> str:
    """The part of the package an entry belongs to: its top-level folder or module."""
    top = name.split("/", 1)[0]
    if top.endswith(".dist-info"):
        return "(distribution metadata: *.dist-info)"
    return top.removesuffix(".py")


def sizes(directory: Path, zip_path: Path) -> dict[str, Any]:
    """Zipped and unpacked bytes of the package, in all and per part, largest zipped first."""
    parts: dict[str, dict[str, int]] = {}
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            part = parts.setdefault(_part(info.filename), {"files": 0, "unpacked": 0, "zipped": 0})
            part["files"] += 1
            part["unpacked"] += info.file_size
            part["zipped"] += info.compress_size
    return {
        "zipped": zip_path.stat().st_size,
        "unpacked": sum(path.stat().st_size for path in files(directory)),
        "files": len(files(directory)),
        "zipped_limit": ZIPPED_LIMIT,
        "parts": dict(sorted(parts.items(), key=lambda item: -item[1]["zipped"])),
    }


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MB"


def render(report: dict[str, Any], zip_path: Path) -> str:
    """The report as lines for a terminal."""
    verdict = "within" if report["zipped"] <= report["zipped_limit"] else "OVER"
    lines = [
        f"{zip_path}: {_mb(report['zipped'])} zipped ({verdict} the {_mb(report['zipped_limit'])} limit), "
        f"{_mb(report['unpacked'])} unpacked, {report['files']} files",
        f"  {'part':<40} {'zipped':>10} {'unpacked':>10} {'files':>6}",
    ]
    for name, part in report["parts"].items():
        lines.append(f"  {name:<40} {_mb(part['zipped']):>10} {_mb(part['unpacked']):>10} {part['files']:>6}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run one command."""
    parser = argparse.ArgumentParser(prog="scripts/package.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="the package into DEST")
    build_command.add_argument("dest", type=Path)
    build_command.add_argument("--python", default="3.12", help="the function's Python (default 3.12)")
    build_command.add_argument(
        "--arch", default="aarch64", help="the function's architecture (default aarch64)"
    )
    build_command.add_argument(
        "--requirements", type=Path, default=ROOT / "requirements" / "function.txt", help="the pinned wheels"
    )
    zip_command = commands.add_parser("zip")
    zip_command.add_argument("directory", type=Path)
    zip_command.add_argument("zip", type=Path)
    report_command = commands.add_parser("report")
    report_command.add_argument("directory", type=Path)
    report_command.add_argument("zip", type=Path)
    report_command.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    if args.command == "build":
        build(args.dest.resolve(), args.requirements.resolve(), args.python, args.arch)
    elif args.command == "zip":
        write_zip(args.directory, args.zip)
    else:
        report = sizes(args.directory, args.zip)
        print(json.dumps(report) if args.json else render(report, args.zip))
        if report["zipped"] > report["zipped_limit"]:
            print(f"the package is over {_mb(ZIPPED_LIMIT)} zipped", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
