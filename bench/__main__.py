"""`make bench` (`python -m bench`): run every section, print its tables, optionally write JSON.

A section is a module of this package with `TITLE` and `run(options) -> list[Table]`. Add yours to
SECTIONS; a listed module that does not exist yet is reported as such and skipped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import Options

#: Sections, in the order they run. Each is `bench.<name>`.
SECTIONS = [
    "handler",  # the Lambda handler: cold start, warm requests, DynamoDB requests per operation
    "local_runtime",  # the local runtime (`serverless-crud serve`): written separately
    "package",  # the deployment package: zipped, unpacked, largest parts
    "jobs",  # 100,000- and 1,000,000-row imports and exports on the Distributed Maps vs a direct loop
    "search",  # search, filters and sorts: DynamoDB reads per page of each access pattern
    "history",  # record history: from a write to its history entry on the local runtime
]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections; exit 0 whether or not targets are met (they are reported)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--section", action="append", choices=SECTIONS, help="run only these (repeatable)")
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke run, not figures")
    parser.add_argument("--cold-repetitions", type=int, help="fresh processes per cold-start variant")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every table as JSON here")
    args = parser.parse_args(argv)

    options = Options.quick() if args.quick else Options()
    if args.cold_repetitions:
        options = Options(args.cold_repetitions, options.warm_stubbed, options.warm_moto)

    print(_machine())
    report: dict[str, Any] = {"machine": _machine(), "sections": {}}
    started = time.monotonic()
    for name in args.section or SECTIONS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"bench.{name}":
                raise
            print(f"\n## {name}: not written yet (bench/{name}.py), skipped")
            continue
        print(f"\n## {module.TITLE}\n", flush=True)
        section_started = time.monotonic()
        tables = module.run(options)
        for table in tables:
            print(table.render(), end="\n\n", flush=True)
        print(f"({name}: {time.monotonic() - section_started:.0f} s)")
        report["sections"][name] = [table.as_json() for table in tables]
    checks = [c for s in report["sections"].values() for t in s for c in t["checks"]]
    met = sum(c["met"] for c in checks)
    print(f"\ntargets met: {met}/{len(checks)}   total {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


def _machine() -> str:
    return (
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}; " + " ".join(_versions())
    )


def _versions() -> list[str]:
    from importlib.metadata import version

    return [
        f"{name} {version(name)}"
        for name in ("aws-lambda-powertools", "botocore", "boto3", "pydantic", "moto")
    ]


if __name__ == "__main__":
    sys.exit(main())
