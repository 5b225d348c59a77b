"""Cold start: fresh interpreters importing a handler and serving their first request.

Method (printed with the table):
- Each sample is a new `python` process started in a task directory laid out as Lambda's /var/task:
  the deployment package as `sam build` ships it (scripts/package.py's recipe: the pinned wheels less
  what is pruned, serverless_crud, every module's bytecode), built for this interpreter and machine
  (Lambda's python3.12 package carries 3.12 bytecode, which this interpreter cannot load), plus the
  baseline module, compiled too. Only botocore comes from the virtual environment, as the Lambda
  runtime provides it. A second task directory with the source alone (what `sam build` shipped
  before the package carried bytecode: every module compiled at each start) shows the difference.
- The child measures, with perf_counter_ns: importing the handler's module, creating the DynamoDB
  client (at import for the baseline, on first use for the app) and serving one request.
  Interpreter start-up is the same for both sides and left out.
- DynamoDB is answered by botocore's Stubber, armed while the clock is stopped, so the request
  is serialised and endpoint-resolved as usual but no network is used and no stub cost is counted.
- App and baseline runs alternate, in an order reversed every round, to cancel drift.
"""

from __future__ import annotations

import compileall
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import aws
from bench.report import Check, Table, median, ms, percentile, ratio

HERE = Path(__file__).resolve().parent
ROOT = aws.ROOT
SOURCE = ROOT / "src" / "serverless_crud"
TARGET_RATIO = 1.10
#: The write path: the first POST, which validates and stores a record, from source.
POST_TARGET_RATIO = 1.05
MARKER = "BENCH-RESULT "

EMAIL = "ann@example.com"
RECORD_ID = 1764000000000001


def stored_item() -> dict[str, Any]:
    """The record DynamoDB returns for the cold GET (every field of the model present)."""
    return {
        "email": {"S": EMAIL},
        "id": {"N": str(RECORD_ID)},
        "name": {"S": "Ann Example"},
        "phone": {"S": "+44 20 7946 0000"},
        "notes": {"NULL": True},
        "tags": {"L": [{"S": "customer"}, {"S": "vip"}]},
        "amount": {"N": "12.50"},
        "active": {"BOOL": True},
        "version": {"N": "3"},
        "created_at": {"S": "2026-01-01T00:00:00.000Z"},
        "updated_at": {"S": "2026-01-02T00:00:00.000Z"},
    }


@dataclass(frozen=True)
class Scenario:
    """A first request and the DynamoDB answer it gets."""

    name: str
    event: dict[str, Any]
    operation: str
    response: dict[str, Any]


def scenarios() -> list[Scenario]:
    """GET of an existing record, and POST of a new one (which loads the pydantic model)."""
    body = aws.json_body({"email": "bob@example.com", "name": "Bob", "tags": ["new"], "amount": 3.5})
    return [
        Scenario(
            "GET", aws.api_event("GET", f"/records/{EMAIL}/{RECORD_ID}"), "get_item", {"Item": stored_item()}
        ),
        Scenario("POST", aws.api_event("POST", "/records", body=body), "put_item", {}),
    ]


#: What each side's child runs inside the window, in order. The app's handler import is split so
#: that the table can say where time goes: importing `aws_lambda_powertools` first does the same
#: work the handler's own import would do (package inits run once). (Powertools' `event_handler`
#: is not loaded at all since the app dispatches its routes itself.)
APP_STEPS = [
    "import:aws_lambda_powertools",
    "import:serverless_crud.handler",
    "import:botocore.session",
    "call:serverless_crud.dal.clients:client:dynamodb",
]
BASELINE_STEPS = ["import:botocore.session", "import:boto3", "import:baseline", "attr:baseline:client"]
STEP_LABELS = {
    "import:aws_lambda_powertools": "Powertools package (Logger, Metrics, Tracer)",
    "import:serverless_crud.handler": "the app's own modules",
    "import:botocore.session": "botocore",
    "import:boto3": "boto3",
    "call:serverless_crud.dal.clients:client:dynamodb": "DynamoDB client",
    "import:baseline": "DynamoDB client",
    "gc-freeze": "gc.freeze()",
}


@dataclass(frozen=True)
class Variant:
    """One kind of child process: which code, compiled how, answering which scenario."""

    label: str
    side: str  # "app" or "baseline"
    scenario: Scenario
    task_root: Path
    steps: tuple[str, ...]
    baseline_label: str = ""


def build_task_root(parent: Path, name: str, *, shipped: bool) -> Path:
    """A directory laid out as Lambda's /var/task: the package, the baseline, the child script.
    `shipped`: the deployment package's recipe for this interpreter and machine; otherwise the source
    of serverless_crud alone (its dependencies then come precompiled from the virtual environment)."""
    root = parent / name
    if shipped:
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        build = [sys.executable, str(ROOT / "scripts" / "package.py"), "build", str(root)]
        subprocess.run([*build, "--python", python, "--arch", platform.machine()], check=True, cwd=ROOT)
    else:
        shutil.copytree(
            SOURCE, root / "serverless_crud", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy(HERE / "baseline.py", root / "baseline.py")
    shutil.copy(HERE / "cold_child.py", root / "cold_child.py")
    if shipped:
        compileall.compile_file(root / "baseline.py", quiet=1)
    return root


def child_environment() -> dict[str, str]:
    """The function's environment; bytecode never written, so every process compiles alike."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_", "POWERTOOLS_"))}
    env.update(aws.environment())
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_child(variant: Variant, files: dict[str, Path], env: dict[str, str]) -> dict[str, Any]:
    """Start one fresh interpreter and return what it measured (plus the process's wall time)."""
    fn = aws.function()
    handler = fn.handler if variant.side == "app" else "baseline.lambda_handler"
    argv = [
        sys.executable,
        "cold_child.py",
        ",".join(variant.steps),
        handler,
        str(files[f"event-{variant.scenario.name}"]),
        str(files[f"stub-{variant.scenario.name}"]),
        str(fn.memory_mb),
        str(fn.timeout_s),
    ]
    started = time.perf_counter_ns()
    done = subprocess.run(argv, cwd=variant.task_root, env=env, capture_output=True, text=True, check=False)
    wall_ms = (time.perf_counter_ns() - started) / 1e6
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"cold-start child failed ({variant.label}):\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    if not str(result["module_file"]).startswith(str(variant.task_root)):
        raise RuntimeError(f"{variant.label} imported {result['module_file']}, not the task directory's copy")
    if result["status"] >= 300:
        raise RuntimeError(f"{variant.label} answered {result['status']}")
    result["wall_ms"] = wall_ms
    return result


def variants(source: Path, shipped: Path) -> list[Variant]:
    """GET and POST of the package as shipped, app and baseline; GET from source alone; GET with
    gc.freeze() after import."""
    get, post = scenarios()
    app, base = tuple(APP_STEPS), tuple(BASELINE_STEPS)
    frozen = (*app[:3], "gc-freeze", *app[3:])
    return [
        Variant("GET  app, package as shipped", "app", get, shipped, app, "GET  baseline, .pyc"),
        Variant("GET  baseline, .pyc", "baseline", get, shipped, base),
        Variant("POST app, package as shipped", "app", post, shipped, app, "POST baseline, .pyc"),
        Variant("POST baseline, .pyc", "baseline", post, shipped, base),
        Variant("GET  app, source only", "app", get, source, app, "GET  baseline, source"),
        Variant("GET  baseline, source", "baseline", get, source, base),
        Variant(
            "GET  app, gc.freeze() after import (what if)", "app", get, shipped, frozen, "GET  baseline, .pyc"
        ),
    ]


def run(repetitions: int) -> list[Table]:
    """Measure every variant `repetitions` times, interleaved, and tabulate."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        parent = Path(tmp)
        source = build_task_root(parent, "source", shipped=False)
        shipped = build_task_root(parent, "shipped", shipped=True)
        files: dict[str, Path] = {}
        for scenario in scenarios():
            files[f"event-{scenario.name}"] = parent / f"event-{scenario.name}.json"
            files[f"event-{scenario.name}"].write_text(json.dumps(scenario.event))
            files[f"stub-{scenario.name}"] = parent / f"stub-{scenario.name}.json"
            stub = {"operation": scenario.operation, "response": scenario.response}
            files[f"stub-{scenario.name}"].write_text(json.dumps(stub))
        chosen = variants(source, shipped)
        env = child_environment()
        samples: dict[str, list[dict[str, Any]]] = {v.label: [] for v in chosen}
        run_child(chosen[0], files, env)  # warm the OS file cache; not counted
        run_child(chosen[1], files, env)
        for repetition in range(repetitions):
            for variant in chosen if repetition % 2 == 0 else chosen[::-1]:
                samples[variant.label].append(run_child(variant, files, env))
    return [_table(chosen, samples, repetitions), _steps_table(chosen, samples)]


def _table(chosen: list[Variant], samples: dict[str, list[dict[str, Any]]], repetitions: int) -> Table:
    table = Table(
        title=f"Cold start: import + DynamoDB client + first request ({repetitions} fresh processes each)",
        columns=[
            "first request",
            "CPU ms",
            "p90",
            "wall ms",
            "p90",
            "GC ms",
            "request",
            "process",
            "ratio CPU",
            "ratio wall",
        ],
    )
    cpu = {label: median([r["total_cpu_ms"] for r in runs]) for label, runs in samples.items()}
    wall = {label: median([r["total_ms"] for r in runs]) for label, runs in samples.items()}
    for variant in chosen:
        runs = samples[variant.label]
        base = variant.baseline_label
        table.rows.append(
            [
                variant.label,
                ms(cpu[variant.label]),
                ms(percentile([r["total_cpu_ms"] for r in runs], 0.9)),
                ms(wall[variant.label]),
                ms(percentile([r["total_ms"] for r in runs], 0.9)),
                ms(median([r["gc_ms"] for r in runs])),
                ms(median([r["request_ms"] for r in runs])),
                ms(median([r["wall_ms"] for r in runs])),
                ratio(cpu[variant.label] / cpu[base]) if base else "",
                ratio(wall[variant.label] / wall[base]) if base else "",
            ]
        )
        table.data[variant.label] = runs
    get_app, get_base = chosen[0].label, chosen[1].label
    table.checks.append(Check("cold start, GET (CPU time)", cpu[get_app] / cpu[get_base], TARGET_RATIO))
    post_app, post_base = chosen[2].label, chosen[3].label
    table.checks.append(
        Check(
            "cold start, POST: the write path (CPU time)", cpu[post_app] / cpu[post_base], POST_TARGET_RATIO
        )
    )
    busy = max(wall[label] / cpu[label] for label in wall)
    table.notes += [
        "ratio = median app / median baseline (the baseline row it is compared with: same request, same code "
        "packaging), same run.",
        "window: importing the handler's module, creating the DynamoDB client (app: on first use, baseline: "
        "boto3 at import), serving the first request; timed as CPU time and as wall time. On an idle machine "
        "they agree; other work on the machine inflates wall time, so the target is checked on CPU time.",
        f"largest wall/CPU of a row's medians: {busy:.2f} (near 1.0: the machine was quiet enough).",
        "GC: garbage-collector wall time inside the window. process: the whole child's wall time "
        "(interpreter start-up and the stopped-clock set-up included).",
        "DynamoDB answered by botocore's Stubber armed outside the clock. 'package as shipped': the "
        "deployment package's recipe (bytecode by this interpreter); 'source only': serverless_crud's "
        "source, compiled at each start, with its dependencies precompiled in the virtual environment.",
        "'what if' rows change nothing in the app: the child calls gc.freeze() after importing the handler.",
    ]
    return table


def _steps_table(chosen: list[Variant], samples: dict[str, list[dict[str, Any]]]) -> Table:
    columns = [v for v in chosen if v.scenario.name == "GET" and "what if" not in v.label]
    table = Table(
        title="Where the GET cold start goes (CPU ms, medians of the same processes)",
        columns=["step", *(v.label.removeprefix("GET  ") for v in columns)],
    )

    def step_medians(label: str) -> dict[str, float]:
        runs = samples[label]
        names = [step[0] for step in runs[0]["steps"] if not step[0].startswith("attr:")]
        cpu_by_step = [{step[0]: step[2] for step in r["steps"]} for r in runs]
        values = {STEP_LABELS.get(n, n): median([steps[n] for steps in cpu_by_step]) for n in names}
        values["first request"] = median([r["request_cpu_ms"] for r in runs])
        values["total (median of sums)"] = median([r["total_cpu_ms"] for r in runs])
        return values

    steps = [step_medians(v.label) for v in columns]
    names = dict.fromkeys(name for column in steps for name in column if not name.startswith("total"))
    for name in [*names, "total (median of sums)"]:
        table.rows.append([name, *(ms(column[name]) if name in column else "-" for column in steps)])
    table.notes.append(
        "each step is the marginal cost in that order: a module loaded by an earlier step is free later."
    )
    return table
