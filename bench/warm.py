"""Warm requests: the handler's per-request time against the raw baseline, in this process.

Both handlers get the same API Gateway REST proxy events and make the same DynamoDB calls,
answered either by botocore's Stubber (so the difference is each handler's own work: routing,
validation, logging, metrics, serialisation) or by moto in-process (a whole DynamoDB round trip,
minus the network). Times are perf_counter_ns per request after a warm-up; app and baseline
alternate in rounds to cancel drift.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bench import aws
from bench.coldstart import EMAIL, RECORD_ID, stored_item
from bench.report import Check, Table, median, percentile, ratio, us

#: The cost of a request against the raw handler, DynamoDB stubbed: per operation.
TARGET_RATIOS = {"get": 1.4, "create": 1.5, "list": 1.3}
#: The write path against a real DynamoDB round trip (moto).
WRITE_TARGET_RATIO = 1.3
#: A listing's page: the API's default page size.
LIST_SIZE = 25
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """One API operation: its event, the DynamoDB call it makes and the stubbed answer."""

    name: str
    event: dict[str, Any]
    method: str
    response: dict[str, Any]
    status: int


def listed_items() -> list[dict[str, Any]]:
    """The partition the list operation reads: LIST_SIZE records."""
    items = []
    for offset in range(LIST_SIZE):
        item = stored_item()
        item["id"] = {"N": str(RECORD_ID + offset)}
        items.append(item)
    return items


def operations() -> list[Operation]:
    """get, create (server-assigned id) and list by email."""
    body = aws.json_body({"email": "new@example.com", "name": "New Person", "tags": ["x"], "amount": 3.25})
    query = {"email": EMAIL}
    items = listed_items()
    return [
        Operation(
            "get", aws.api_event("GET", f"/records/{EMAIL}/{RECORD_ID}"), "get_item", {"Item": items[0]}, 200
        ),
        Operation("create", aws.api_event("POST", "/records", body=body), "put_item", {}, 201),
        Operation(
            "list",
            aws.api_event("GET", "/records", query=query),
            "query",
            {"Items": items, "Count": len(items), "ScannedCount": len(items)},
            200,
        ),
    ]


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send stdout (metrics in EMF are printed there) to /dev/null, for both sides alike."""
    with open(os.devnull, "w") as sink:
        saved, sys.stdout = sys.stdout, sink
        try:
            yield
        finally:
            sys.stdout = saved


def app_handler() -> tuple[Handler, Any]:
    """The app's handler and a fresh DynamoDB client of its own (created under the active backend)."""
    from serverless_crud import handler, settings
    from serverless_crud.dal.clients import client

    client.cache_clear()
    settings.reset()  # the service is rebuilt with the new client
    return handler.lambda_handler, client("dynamodb")


def baseline_handler() -> tuple[Handler, Any]:
    """The baseline's handler with a fresh boto3 client (created under the active backend)."""
    import boto3

    from bench import baseline

    baseline.client = boto3.client("dynamodb")
    return baseline.lambda_handler, baseline.client


class CallShapes:
    """Records each DynamoDB call a client makes as (operation, parameter names), to show that the
    app and the baseline send the same requests. Registered for the warm-up only."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.seen.append((model.name, tuple(sorted(params))))

    @contextlib.contextmanager
    def watching(self, client: Any) -> Iterator[None]:
        """Record calls on `client` inside the block."""
        client.meta.events.register("before-parameter-build.dynamodb", self)
        try:
            yield
        finally:
            client.meta.events.unregister("before-parameter-build.dynamodb", self)


def _time(
    handler: Handler, operation: Operation, count: int, context: Any, before: Callable[[int], None]
) -> list[int]:
    before(count)
    samples = []
    event = operation.event
    clock = time.perf_counter_ns
    for _ in range(count):
        start = clock()
        response = handler(event, context)
        samples.append(clock() - start)
    if response["statusCode"] != operation.status:
        raise RuntimeError(f"{operation.name} answered {response['statusCode']}: {response.get('body')}")
    return samples


Side = tuple[Handler, Any, Callable[[int], None]]  # handler, its DynamoDB client, stub arming


def measure(
    sides: Mapping[str, Side],
    operation: Operation,
    rounds: int,
    per_round: int,
    warmup: int,
) -> dict[str, list[int]]:
    """Per-request ns for each side: a warm-up, then alternating rounds.

    During the warm-up, each side's DynamoDB calls are recorded; both must make the same calls
    with the same parameter names, or the comparison would be unfair and the run stops.
    """
    context = aws.lambda_context()
    samples: dict[str, list[int]] = {name: [] for name in sides}
    names = list(sides)
    shapes: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    with quiet_stdout():
        for name in names:
            handler, client, before = sides[name]
            recorder = CallShapes()
            with recorder.watching(client):
                _time(handler, operation, warmup, context, before)
            shapes[name] = set(recorder.seen)
        if len({frozenset(s) for s in shapes.values()}) != 1:
            raise RuntimeError(f"{operation.name}: the sides make different DynamoDB calls: {shapes}")
        for index in range(rounds):
            for name in names if index % 2 == 0 else names[::-1]:
                handler, _, before = sides[name]
                samples[name] += _time(handler, operation, per_round, context, before)
    return samples


def run_stubbed(rounds: int, per_round: int, warmup: int) -> Table:
    """Both handlers with DynamoDB answered by botocore's Stubber."""
    from botocore.stub import Stubber

    table = _new_table("Stubber")
    table.notes.append("both sides checked to make the same DynamoDB calls with the same parameters.")
    app, app_client = app_handler()
    base, base_client = baseline_handler()
    stubbers = {"app": Stubber(app_client), "baseline": Stubber(base_client)}
    for stubber in stubbers.values():
        stubber.activate()
    try:
        for operation in operations():

            def arm(stubber: Stubber, op: Operation = operation) -> Callable[[int], None]:
                def queue(count: int) -> None:
                    for _ in range(count):
                        stubber.add_response(op.method, op.response)

                return queue

            sides = {
                "app": (app, app_client, arm(stubbers["app"])),
                "baseline": (base, base_client, arm(stubbers["baseline"])),
            }
            samples = measure(sides, operation, rounds, per_round, warmup)
            _add_rows(table, operation.name, samples, check=True)
    finally:
        for stubber in stubbers.values():
            stubber.deactivate()
    return table


def run_moto(rounds: int, per_round: int, warmup: int) -> Table:
    """Both handlers against moto in-process, the table created from template.yaml."""
    from moto import mock_aws

    table = _new_table("moto in-process")
    with mock_aws():
        create_tables_and_seed()
        app, app_client = app_handler()
        base, base_client = baseline_handler()
        for operation in operations():
            sides = {"app": (app, app_client, _nothing), "baseline": (base, base_client, _nothing)}
            samples = measure(sides, operation, rounds, per_round, warmup)
            _add_rows(table, operation.name, samples, check=False)
            if operation.name == "create":
                ratio_ = table.data["create"]["app_us_median"] / table.data["create"]["baseline_us_median"]
                table.checks.append(Check("warm create: the write path (moto)", ratio_, WRITE_TARGET_RATIO))
    return table


def create_tables_and_seed() -> None:
    """The template's tables in moto, and the records that get and list read."""
    import boto3

    client = boto3.client("dynamodb")
    for definition in aws.function().tables.values():
        client.create_table(**definition)
    for item in listed_items():
        client.put_item(TableName=aws.function().environment["TABLE_NAME"], Item=item)


def _nothing(_: int) -> None:
    return None


def _new_table(backend: str) -> Table:
    return Table(
        title=f"Warm per-request time, DynamoDB answered by {backend}",
        columns=[
            "operation",
            "app median us",
            "app p90",
            "baseline median us",
            "baseline p90",
            "app overhead us",
            "ratio",
        ],
    )


def _add_rows(table: Table, name: str, samples: dict[str, list[int]], *, check: bool) -> None:
    app = [s / 1000 for s in samples["app"]]
    base = [s / 1000 for s in samples["baseline"]]
    value = median(app) / median(base)
    table.rows.append(
        [
            name,
            us(median(app)),
            us(percentile(app, 0.9)),
            us(median(base)),
            us(percentile(base, 0.9)),
            us(median(app) - median(base)),
            ratio(value),
        ]
    )
    table.data[name] = {"app_us_median": median(app), "baseline_us_median": median(base), "samples": len(app)}
    if check:
        table.checks.append(Check(f"warm {name} (stubbed)", value, TARGET_RATIOS[name]))
