"""Lambda's event source mappings: moto holds them, a poller per enabled mapping delivers.

Each mapping lives in moto's Lambda, so the endpoint's `list-event-source-mappings`,
`create-event-source-mapping`, `update-event-source-mapping` (disable, batch size, filters...) and
`delete-event-source-mapping` work on the template's mappings and make new ones. moto would call the
function itself, synchronously, from inside `SendMessage` or `PutItem`; that wiring is undone, and
instead a poller per enabled mapping reads its queue or stream through the embedded AWS, as Lambda's
pollers do, and invokes the function with batches. `Mappings` starts and stops pollers as mappings
come, change and go. A template's mapping keeps the same UUID across restarts (derived from the
function and the event), so its position in a stream does too; mappings made at the endpoint are
journaled and made again at start.

Positions (the next stream record a mapping hands its function) are journaled under
`lambda/event-source-mappings`: a record is handed on until the function has taken it, across
restarts (at least once, as on AWS).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, EmbeddedAws
from serverless_local.journal import Store
from serverless_local.services.lambda_.invocation import Result
from serverless_local.targets import Targets


class Functions(Protocol):
    """What event sources use of the local Lambda."""

    def invoke(self, function: str, event: Any, deadline: float) -> Result:
        """Run `event` through `function` synchronously (a poller's batch)."""

    def timeout_of(self, function: str) -> float:
        """The function's Timeout in seconds."""


#: How often the mappings in moto are compared with the running pollers.
RECONCILE_SECONDS = 0.5
COMPACT_AFTER_BYTES = 1024 * 1024


class Positions:
    """Where each mapping is in its stream, and the mappings made at the endpoint; journaled."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.next: dict[str, str] = {}
        self.made: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self) -> list[str]:
        """Read the snapshot and the journal; what was repaired or set aside, in sentences."""
        recovered = self.store.recover()
        snapshot = recovered.snapshot
        if snapshot is not None:
            self.next = dict(snapshot.manifest.get("next") or {})
            self.made = dict(snapshot.manifest.get("made") or {})
        for entry in recovered.journal.entries:
            self._apply(entry)
        if recovered.compact:
            self.compact()
        return recovered.notes

    def _apply(self, entry: dict[str, Any]) -> None:
        if entry["op"] == "position":
            self.next[entry["mapping"]] = entry["next"]
        elif entry["op"] == "mapping":
            self.made[entry["uuid"]] = entry["spec"]
        elif entry["op"] == "deleted":
            self.made.pop(entry["uuid"], None)
            self.next.pop(entry["uuid"], None)

    def record(self, entry: dict[str, Any]) -> None:
        """Apply and journal one change."""
        with self._lock:
            self._apply(entry)
            self.store.append([entry])
            due = self.store.segment_bytes > COMPACT_AFTER_BYTES
        if due:
            self.compact()

    def compact(self) -> None:
        """Fold the journal into a snapshot."""
        with self._lock:
            covers = self.store.rotate()
            manifest = {"next": dict(self.next), "made": dict(self.made)}
        self.store.write_snapshot(manifest, {}, covers)


@dataclass
class PollerContext:
    """What every poller uses."""

    aws: EmbeddedAws
    functions: Functions
    targets: Targets
    positions: Positions
    #: A line about a function in its log and on the console: (function ARN, message).
    log: Callable[[str, str], None]


class Poller:
    """One mapping's delivery loop, on a thread of its own. Subclasses implement `poll`."""

    #: Seconds between polls of an empty source.
    interval = 0.25

    def __init__(self, mapping: Any, context: PollerContext) -> None:
        #: moto's EventSourceMapping (read on every batch: an update takes effect at the next one).
        self.mapping = mapping
        self.context = context
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poller-{mapping.uuid[:8]}", daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in hand (its function call is not cut short)."""
        self.stopped.set()

    def join(self, timeout: float) -> None:
        """Wait for the loop to end."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                worked = self.poll()
            except Exception as error:  # a poller never dies: it says why and tries again
                why = str(error) or type(error).__name__
                self.context.log(
                    self.mapping.function_arn, f"event source mapping {self.mapping.uuid}: {why}"
                )
                worked = False
            if not worked:
                self.stopped.wait(self.interval)

    def poll(self) -> bool:
        """Deliver one batch if there is one; whether there was."""
        raise NotImplementedError

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the mapping's function on one batch, synchronously (Lambda's outcome)."""
        functions = self.context.functions
        function = self.mapping.function_arn
        deadline = time.monotonic() + functions.timeout_of(function) + 10.0
        return functions.invoke(function, event, deadline)


def stable_uuid(function: str, event_id: str) -> str:
    """The UUID of a template's mapping: the same at every start."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"serverless-local/{function}/{event_id}"))


#: Makes the poller of a mapping, by the service of its source ARN.
PollerType = Callable[[Any, PollerContext], Poller]


class Mappings:
    """The event source mappings in moto, each with a poller while it is enabled."""

    def __init__(self, context: PollerContext, pollers: dict[str, PollerType]) -> None:
        self.context = context
        self.pollers = pollers
        self._running: dict[str, tuple[Poller, str]] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._reconcile_loop, name="event-source-mappings", daemon=True
        )
        self._recording = False

    @property
    def backend(self) -> Any:
        """moto's Lambda backend."""
        from moto.awslambda.utils import get_backend

        return get_backend(ACCOUNT_ID, REGION)

    def install(self) -> None:
        """Undo moto's synchronous delivery of every mapping made, and journal those made at the endpoint."""
        from moto.awslambda.models import LambdaBackend

        service = self

        def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
            made = original_create(backend, dict(spec))
            _unwire(made)
            if service._recording:
                service.context.positions.record({"op": "mapping", "uuid": made.uuid, "spec": _spec_of(spec)})
            return made

        def delete_event_source_mapping(backend: Any, mapping_id: str) -> Any:
            deleted = original_delete(backend, mapping_id)
            if deleted is not None and mapping_id in service.context.positions.made:
                service.context.positions.record({"op": "deleted", "uuid": mapping_id})
            return deleted

        def list_event_source_mappings(backend: Any, event_source_arn: str, function_name: str) -> Any:
            # moto compares FunctionName as given at creation (an ARN, say); Lambda matches the
            # function, whether it is named by its name or its ARN.
            found = original_list(backend, event_source_arn, "")
            wanted = _function_name(function_name) if function_name else None
            return [m for m in found if wanted is None or _function_name(m.function_arn) == wanted]

        original_create = self.context.aws.replace(
            LambdaBackend, "create_event_source_mapping", create_event_source_mapping
        )
        original_list = self.context.aws.replace(
            LambdaBackend, "list_event_source_mappings", list_event_source_mappings
        )
        original_delete = self.context.aws.replace(
            LambdaBackend, "delete_event_source_mapping", delete_event_source_mapping
        )

    def create(self, spec: dict[str, Any], mapping_id: str) -> Any:
        """A template's mapping, with its stable UUID."""
        made = self.backend.create_event_source_mapping(dict(spec))
        self._rename(made, mapping_id)
        return made

    def restore(self) -> None:
        """Make again the mappings made at the endpoint before the restart, with their UUIDs."""
        for mapping_id, spec in list(self.context.positions.made.items()):
            try:
                made = self.backend.create_event_source_mapping(dict(spec))
            except Exception as error:  # its function or its source is gone from the template
                self.context.log(
                    str(spec.get("FunctionName")), f"event source mapping {mapping_id} not restored: {error}"
                )
                continue
            self._rename(made, mapping_id)
        self._recording = True

    def _rename(self, made: Any, mapping_id: str) -> None:
        mappings = self.backend._event_source_mappings
        mappings.pop(made.uuid, None)
        made.uuid = mapping_id
        made.arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:event-source-mapping:{mapping_id}"
        mappings[mapping_id] = made

    def start(self) -> None:
        """Start the pollers, and follow the mappings from now on."""
        self._reconcile()
        self._thread.start()

    def stop(self) -> None:
        """Stop every poller."""
        self._stopped.set()
        for poller, _ in list(self._running.values()):
            poller.stop()
        for poller, _ in list(self._running.values()):
            poller.join(5)

    def describe(self) -> dict[str, str]:
        """Each running mapping's source, by UUID."""
        return {mapping_id: source for mapping_id, (_, source) in self._running.items()}

    def _reconcile_loop(self) -> None:
        while not self._stopped.wait(RECONCILE_SECONDS):
            with contextlib.suppress(Exception):
                self._reconcile()

    def _reconcile(self) -> None:
        wanted = {m.uuid: m for m in list(self.backend._event_source_mappings.values()) if m.enabled}
        for mapping_id in [m for m in self._running if m not in wanted]:
            self._running.pop(mapping_id)[0].stop()
        for mapping_id, mapping in wanted.items():
            running = self._running.get(mapping_id)
            if running is not None and running[0].mapping is mapping:
                continue
            if running is not None:
                running[0].stop()
            kind = mapping.event_source_arn.split(":")[2]
            make = self.pollers.get(kind)
            if make is None:
                continue
            poller = make(mapping, self.context)
            self._running[mapping_id] = (poller, mapping.event_source_arn)
            poller.start()


def _function_name(function: str) -> str:
    """A function's name, from its name or its (qualified) ARN."""
    parts = function.split(":")
    return parts[6] if function.startswith("arn:") and len(parts) > 6 else function


def _unwire(mapping: Any) -> None:
    """Take a mapping off what moto delivers from synchronously (queues, tables, streams)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sqs.models import sqs_backends

    for queue in sqs_backends[ACCOUNT_ID][REGION].queues.values():
        queue.lambda_event_source_mappings.pop(mapping.function_arn, None)
    for table in dynamodb_backends[ACCOUNT_ID][REGION].tables.values():
        table.lambda_event_source_mappings.pop(mapping.function_arn, None)
    for stream in kinesis_backends[ACCOUNT_ID][REGION].streams.values():
        stream.lambda_event_source_mappings.pop(mapping.event_source_arn, None)


#: The CreateEventSourceMapping parameters a journaled mapping is made again with.
_SPEC = (
    "EventSourceArn",
    "FunctionName",
    "Enabled",
    "BatchSize",
    "FilterCriteria",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "StartingPosition",
    "StartingPositionTimestamp",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "ScalingConfig",
)


def _spec_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k in _SPEC}
