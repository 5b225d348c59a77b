"""The function's deployment package: copy the code in, zip it, report its size.

Used by `make build-RecordsFunction` (what `sam build` runs) and `make package`; the standard
library only, so that any Python 3 builds the package.

    python scripts/package.py copy-code DEST        src/serverless_crud into DEST (no caches)
    python scripts/package.py zip DIR ZIP            DIR as a reproducible zip
    python scripts/package.py report DIR ZIP [--json]   sizes: zipped, unpacked, largest parts
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "src" / "serverless_crud"
#: Source that only the build uses: the record's pydantic definition, from which `make schemas` writes
#: models/schemas.json, the file the function validates with (pydantic is not in the package).
BUILD_ONLY = frozenset({"models/record.py"})
#: Lambda's limit on a zip uploaded directly is 50 MB; this project holds itself to 5 MB.
ZIPPED_LIMIT = 5 * 1024 * 1024
#: The zip's timestamps: fixed, so that the same files always make the same zip.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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
    commands.add_parser("copy-code").add_argument("dest", type=Path)
    zip_command = commands.add_parser("zip")
    zip_command.add_argument("directory", type=Path)
    zip_command.add_argument("zip", type=Path)
    report_command = commands.add_parser("report")
    report_command.add_argument("directory", type=Path)
    report_command.add_argument("zip", type=Path)
    report_command.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    if args.command == "copy-code":
        copy_code(args.dest)
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
