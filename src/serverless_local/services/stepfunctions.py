"""Step Functions: the template's state machines in moto, run on moto's ASL engine, results kept.

Each `AWS::Serverless::StateMachine` is created through the Step Functions API with its definition
(`Definition`, or the file `DefinitionUri` names) and SAM's `DefinitionSubstitutions` applied, each
substitution resolved by the runtime (`!Ref`/`!GetAtt`/`!Sub` to the local names and ARNs). moto runs
executions when `execute_state_machine` is set (embedded_aws does); a Lambda task reaches moto's
Lambda `invoke`, which the Lambda service answers with the template's own function (its environment,
timeout, and errors in Lambda's shape, so `Retry` and `Catch` see what they would on AWS).

A Distributed Map's tolerated failures are applied here (moto records a failed child execution and
goes on): a Map run whose failures exceed its thresholds fails with
`States.ExceedToleratedFailureThreshold`, as on AWS.

The journal (`stepfunctions/`) holds each execution's start and its end (status, output or error,
and again what its start said, so the end alone describes it). It is read back before the banner
(what was repaired or set aside is reported with every other service's damage); after a restart
finished executions are listed and described again. One that was running when the server stopped
cannot go on (moto keeps no checkpoint) and is recorded as FAILED, error `States.Runtime`, cause
"interrupted by a restart" — never running forever; one whose end was in a journal line set aside
as damaged is FAILED with a cause that says so. An execution's end is journaled before any request
can see it ended (the Step Functions requests and the end share one lock).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from serverless_local.code_cache import cache_directory
from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches, ServiceUnavailable
from serverless_local.journal import Recovered
from serverless_local.services.base import Service, ServiceContext, Warmup
from serverless_local.targets import Delivery, TargetError
from serverless_local.template import TemplateError, Unresolvable

STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"
INTERRUPTED_ERROR = "States.Runtime"
INTERRUPTED_CAUSE = "interrupted by a restart of the local runtime"
LOST_END_CAUSE = "its end was recorded in a journal line that was damaged and set aside"
_ROLE = "serverless-local-state-machines"
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
_FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class MachineSpec:
    """One state machine as the local runtime creates it."""

    logical_id: str
    name: str
    definition: str
    type: str

    @property
    def arn(self) -> str:
        """Its ARN (what `!Ref` gives on AWS)."""
        return state_machine_arn(self.name)


def state_machine_arn(name: str) -> str:
    """The local ARN of the state machine `name`."""
    return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"


def substitute(definition: str, substitutions: dict[str, Any]) -> str:
    """SAM's DefinitionSubstitutions: each `${name}` in the definition replaced by its value.

    A `${name}` with no substitution is left as it is (as CloudFormation leaves it; the ASL
    validators and moto then report it).
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(substitutions[name]) if name in substitutions else match.group(0)

    return re.sub(r"\$\{([^}]+)\}", replace, definition)


@dataclass
class _Restored:
    """A finished execution read back from the journal, as moto's responses read an execution."""

    execution_arn: str
    state_machine_arn: str
    name: str
    start_date: datetime.datetime
    stop_date: datetime.datetime | None
    status: str
    execution_input: str
    output: str | None
    error: str | None
    cause: str | None
    output_details: Any = None

    @property
    def exec_arn(self) -> str:
        """The attribute moto's parser names the ARN by."""
        return self.execution_arn


class StepFunctionsService(Service):
    """The template's state machines in the embedded Step Functions; executions journaled."""

    title: ClassVar[str] = "States"
    resource_types: ClassVar[frozenset[str]] = frozenset({STATE_MACHINE_TYPE})
    namespace: ClassVar[str | None] = "stepfunctions"
    #: ARNs are known without moto (registered in `start`); the machines are created in `attach`.
    uses_moto: ClassVar[bool] = False
    signing_name: ClassVar[str] = "states"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.store = context.store("stepfunctions")
        #: Held by every Step Functions request and by an execution's end while it is journaled.
        self.lock = threading.RLock()
        self.recovered: Recovered | None = None
        self.names: dict[str, str] = {}
        self.machines: dict[str, MachineSpec] = {}
        self.interrupted = 0
        self._patches = Patches()
        self.warmup: Warmup | None = None
        #: (machine ARN, Map state) -> the tolerated-failure fields its definition declares.
        self.tolerance: dict[tuple[str, str], frozenset[str]] = {}
        #: The journal's finished executions (interrupted ones settled), shown once the machines exist.
        self._finished: list[dict[str, Any]] = []
        self._creating = threading.Lock()
        self._created = threading.Event()
        self._creator: threading.Thread | None = None
        self._create_error: Exception | None = None
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Name the state machines, so `!Ref` (the ARN) and `!GetAtt .Name` resolve for the functions."""
        template = self.context.template
        for resource in self.resources:
            name = template.resolve(resource.properties.get("Name"), resource.logical_id)
            self.names[resource.logical_id] = str(name or resource.logical_id)
        template.resolver.providers[STATE_MACHINE_TYPE] = self.value
        self.context.targets.register("states", self.receive_delivery)

    def receive_delivery(self, arn: str, delivery: Delivery) -> None:
        """An execution started by another service (an EventBridge rule, a schedule): its input."""
        client = self.context.aws.client("stepfunctions")
        try:
            client.start_execution(stateMachineArn=arn, input=delivery.text)
        except client.exceptions.ClientError as error:
            raise TargetError(f"{arn}: {error.response['Error']['Message']}") from None

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the ARN), `!GetAtt .Arn` and `!GetAtt .Name` of a state machine."""
        name = self.names[logical_id]
        if attribute is None or attribute == "Arn":
            return state_machine_arn(name)
        if attribute == "Name":
            return name
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def attach(self) -> None:
        """Read each definition (now that every name resolves); check them in the background, and create
        the machines in moto when the first Step Functions request comes.

        Creating them costs ~1.4 s of CPU (moto's ASL engine imported, each definition parsed): a
        server whose state machines run no execution never pays it. A definition Step Functions has
        accepted before (`checked`) waits for that first request; one not seen yet is created in the
        background at once, so a definition Step Functions refuses still ends the start. Every
        Step Functions request waits for them (`Service.warm`, then `_ready`).
        """
        for resource in self.resources:
            self.machines[resource.logical_id] = self.read_machine(resource.logical_id, resource.properties)
        self.recovered = self.recover(self.store)
        self.warmup = self.warm("the state machines are being prepared", self._prepare)
        self.context.aws.hold(self.signing_name, self._ready)

    def _prepare(self) -> None:
        """Settle the journal's interrupted executions; create the machines now unless every definition
        was accepted before (a refused one then ends the start)."""
        self._settle()
        if not all(checked(spec.definition) for spec in self.machines.values()):
            error = self._create_once()
            if error is not None:
                raise error

    def _ready(self) -> None:
        """The gate of every Step Functions request: the background check done, the machines created."""
        assert self.warmup is not None
        self.warmup.wait()
        error = self._create_once()
        if error is not None:
            raise ServiceUnavailable(str(error))

    def _create_once(self) -> Exception | None:
        """Create the machines unless done (or being done by this thread); the error that stopped it."""
        if self._created.is_set() or self._creator is threading.current_thread():
            return None
        with self._creating:
            if self._stopped:
                return ServiceUnavailable("the local runtime is stopping")
            if not self._created.is_set() and self._create_error is None:
                self._creator = threading.current_thread()
                try:
                    self._create()
                    self._created.set()
                except Exception as error:  # kept: every later request is answered with it
                    self._create_error = error
                finally:
                    self._creator = None
            return self._create_error

    def _create(self) -> None:
        """Create each state machine in moto, restore the executions, journal them from now on."""
        import_engine()
        client = self.context.aws.client("stepfunctions")
        role = self.context.aws.client("iam").create_role(
            RoleName=_ROLE, AssumeRolePolicyDocument=json.dumps(_TRUST)
        )["Role"]["Arn"]
        for spec in self.machines.values():
            try:
                client.create_state_machine(
                    name=spec.name, definition=spec.definition, roleArn=role, type=spec.type
                )
            except client.exceptions.ClientError as error:
                message = error.response["Error"]["Message"]
                raise TemplateError(
                    f"{spec.logical_id}: Step Functions refuses its definition: {message}"
                ) from None
            remember_checked(spec.definition)
        self._restore()
        self._install_hooks()

    def read_machine(self, logical_id: str, properties: dict[str, Any]) -> MachineSpec:
        """The definition of one state machine, its file read and its substitutions applied."""
        template = self.context.template
        where = f"{logical_id}.DefinitionUri"
        if "Definition" in properties:
            text = json.dumps(template.resolve(properties["Definition"], f"{logical_id}.Definition"))
        else:
            uri = properties.get("DefinitionUri")
            if not isinstance(uri, str):
                raise TemplateError(f"{where}: only a local file can be run locally (not an S3 location)")
            path = (template.base / uri).resolve()
            if not path.is_file():
                raise TemplateError(f"{where}: no file at {path}")
            text = path.read_text()
            if path.suffix in (".yaml", ".yml"):
                import yaml

                text = json.dumps(yaml.safe_load(text))
        substitutions = template.resolve(
            properties.get("DefinitionSubstitutions") or {}, f"{logical_id}.DefinitionSubstitutions"
        )
        kind = str(template.resolve(properties.get("Type"), logical_id) or "STANDARD")
        definition = substitute(text, substitutions)
        spec = MachineSpec(logical_id, self.names[logical_id], definition, kind)
        for state, declared in tolerances(definition).items():
            self.tolerance[(spec.arn, state)] = declared
        return spec

    def stop(self) -> None:
        """Give moto its methods back and close the journal (once the machines' creation has ended)."""
        with self._creating:
            self._stopped = True
            self._patches.restore()
            self.store.close()

    def report(self) -> str:
        """The state machines, and the executions recorded as interrupted at this start."""
        if not self.machines and not self.interrupted:
            return ""
        names = ", ".join(spec.name for spec in self.machines.values()) or "no state machines"
        if self.warmup is not None and self.warmup.ready and self.warmup.error is not None:
            names += f" (not created: {self.warmup.error})"
        if self.interrupted:
            names += f"; {self.interrupted} execution(s) interrupted by the last stop recorded as failed"
        return names

    @property
    def backend(self) -> Any:
        """The one Step Functions backend (moto's executing parser)."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        return stepfunctions_parser_backends[ACCOUNT_ID][REGION]

    # -- journal -----------------------------------------------------------------------------------
    def _settle(self) -> None:
        """Read the journal's executions back; record those the last stop interrupted as failed."""
        assert self.recovered is not None
        contents = self.recovered.journal
        executions: dict[str, dict[str, Any]] = {}
        for entry in contents.entries:
            if isinstance(entry.get("arn"), str):
                executions.setdefault(entry["arn"], {}).update(entry)
        damaged = [damage.raw for damage in contents.damaged]
        now = _now()
        settled = []
        for arn, record in executions.items():
            if "machine" not in record or "start" not in record:
                continue  # only its start's line was damaged and it never ended: nothing to show
            if record.get("status") not in _FINISHED:
                lost = any(arn.encode() in line for line in damaged)
                cause = LOST_END_CAUSE if lost else INTERRUPTED_CAUSE
                record.update(status="FAILED", stop=now, error=INTERRUPTED_ERROR, cause=cause)
                settled.append(_end_entry(record))
                self.interrupted += 0 if lost else 1
            self._finished.append(record)
        self.store.append(settled)

    def _restore(self) -> None:
        """The finished executions, settled by `_settle`, shown by their machines again."""
        for record in self._finished:
            machine = next((m for m in self.backend.state_machines if m.arn == record["machine"]), None)
            if machine is None:  # the machine left the template: its executions go with it
                continue
            machine.executions.append(
                _Restored(
                    execution_arn=record["arn"],
                    state_machine_arn=record["machine"],
                    name=record["name"],
                    start_date=datetime.datetime.fromisoformat(record["start"]),
                    stop_date=datetime.datetime.fromisoformat(record["stop"]),
                    status=record["status"],
                    execution_input=record.get("input") or "{}",
                    output=record.get("output"),
                    error=record.get("error"),
                    cause=record.get("cause"),
                )
            )

    def _install_hooks(self) -> None:
        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend
        from moto.stepfunctions.responses import StepFunctionResponse

        service = self

        def start_execution(backend: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
            if (args[0] if args else kwargs.get("name")) is None:
                # An execution started without a name is named by a UUID, as Step Functions names it
                # (moto would take a second unnamed start for a repeat of the first).
                args, kwargs = (
                    ((str(uuid.uuid4()), *args[1:]), kwargs)
                    if args
                    else (args, {**kwargs, "name": str(uuid.uuid4())})
                )
            with service.lock:
                execution = original_start(backend, state_machine_arn, *args, **kwargs)
                if execution.exec_arn not in service._journaled:
                    service._journaled.add(execution.exec_arn)
                    service.store.append([_start_entry(execution, state_machine_arn)])
            return execution

        def terminated(communication: Any) -> None:
            # Under the lock every Step Functions request takes: no one sees the end before it is kept.
            with service.lock:
                original_terminated(communication)
                execution = communication.execution
                output = execution.output
                ended = {
                    "status": execution.status,
                    "stop": (execution.stop_date or _now_date()).isoformat(),
                    "output": None if output is None else json.dumps(output),
                    "error": execution.error,
                    "cause": execution.cause,
                }
                machine = getattr(execution.state_machine, "arn", None)
                service.store.append([_end_entry({**_start_entry(execution, machine), **ended})])

        self._journaled: set[str] = set()
        self.context.aws.on_action(StepFunctionResponse, self.lock, lambda *_: None)
        self._cache_task_clients()
        self._apply_tolerance()
        original_start = self._patches.replace(StepFunctionsParserBackend, "start_execution", start_execution)
        original_terminated = self._patches.replace(
            BaseExecutionWorkerCommunication, "terminated", terminated
        )

    def _apply_tolerance(self) -> None:
        """moto's Distributed Map records a failed child execution and goes on as if it had succeeded
        (its output null): the Map run fails here instead, `States.ExceedToleratedFailureThreshold`,
        when its failures exceed the thresholds its definition declares (none declared: any
        failure), as Step Functions fails it."""
        from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEvent,
            FailureEventException,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
            StatesErrorName,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
            StatesErrorNameType,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component as distributed,
        )
        from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

        service = self

        def map_run(component: Any, env: Any, eval_input: Any) -> None:
            original(component, env, eval_input)
            counter = eval_input.map_run_record.item_counter
            failed = counter.failed.get() + counter.timed_out.get()
            machine = env.states.context_object.context_object_data["StateMachine"]["Id"]
            declared = service.tolerance.get((machine, eval_input.state_name), frozenset())
            if not exceeds_tolerance(
                declared,
                failed,
                counter.total.get(),
                int(eval_input.tolerated_failure_count or 0),
                float(eval_input.tolerated_failure_percentage or 0),
            ):
                return
            env.stack.pop()  # the children's outputs the Map would have returned
            error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            cause = f"{failed} of {counter.total.get()} child executions failed, more than the Map tolerates"
            details = MapRunFailedEventDetails(error=error.error_name, cause=cause)
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=error,
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(mapRunFailedEventDetails=details),  # type: ignore[typeddict-item]
                )
            )

        original = self._patches.replace(distributed.DistributedIterationComponent, "_map_run", map_run)

    def _cache_task_clients(self) -> None:
        """moto's engine builds a new boto3 client for every task it runs (~50 ms each, most of a
        Lambda task's cost): one client per service and region serves them all (clients are
        thread-safe), in every module that imported the builder."""
        import importlib
        import pkgutil

        from moto.stepfunctions.parser.asl.utils import boto_client

        original = boto_client.boto_client_for
        clients: dict[tuple[str, str], Any] = {}
        lock = threading.Lock()

        def cached(region: str, service: str, state_credentials: Any = None) -> Any:
            with lock:
                if (region, service) not in clients:
                    clients[(region, service)] = original(region, service, state_credentials)
                return clients[(region, service)]

        import moto.stepfunctions.parser.asl.component.state.exec as engine

        self._patches.replace(boto_client, "boto_client_for", cached)
        for found in pkgutil.walk_packages(engine.__path__, engine.__name__ + "."):
            module = importlib.import_module(found.name)
            if getattr(module, "boto_client_for", None) is original:
                self._patches.replace(module, "boto_client_for", cached)


def _checked_marker(definition: str) -> Path:
    import moto

    digest = hashlib.sha256(f"{moto.__version__}\n{definition}".encode()).hexdigest()[:32]
    return cache_directory() / "states-checked" / digest


def checked(definition: str) -> bool:
    """Whether Step Functions (this moto) has accepted `definition` before, on this machine."""
    return _checked_marker(definition).exists()


def remember_checked(definition: str) -> None:
    """Note that `definition` was accepted (a cache: where it cannot be written, it is checked again)."""
    marker = _checked_marker(definition)
    with contextlib.suppress(OSError):
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()


def import_engine() -> None:
    """Import moto's ASL engine (the executing Step Functions backend) without moto's Batch service.

    The engine imports one enum from `moto.batch.utils`; through the `moto.batch` package that import
    runs Batch's models and with them EC2's (~1.2 s of CPU, most of the state machines' warm-up), which
    only a state machine submitting a Batch job needs. While the engine loads, `moto.batch` stands in
    `sys.modules` as its bare package (its `__init__` not run), so only `utils` is loaded; the first use
    of Batch then imports the package in full, with that same `utils` module.
    """
    import importlib.util
    import sys

    if "moto.batch" in sys.modules or "moto.stepfunctions.parser.models" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    assert spec is not None
    bare = importlib.util.module_from_spec(spec)
    sys.modules["moto.batch"] = bare
    try:
        import moto.stepfunctions.parser.models  # noqa: F401 (the import is the point)
    finally:
        if sys.modules.get("moto.batch") is bare:
            del sys.modules["moto.batch"]


def tolerances(definition: str) -> dict[str, frozenset[str]]:
    """Each Map state of a definition (nested ones too) and which tolerated-failure thresholds it
    declares: "count" (ToleratedFailureCount[Path]) and "percentage" (ToleratedFailurePercentage[Path])."""
    try:
        states = json.loads(definition).get("States") or {}
    except ValueError:
        return {}  # Step Functions refuses it when the machine is created, with its own sentence
    found: dict[str, frozenset[str]] = {}
    pending = list(states.items())
    while pending:
        name, state = pending.pop()
        if not isinstance(state, dict):
            continue
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        pending.extend((processor.get("States") or {}).items())
        pending.extend(
            item for branch in state.get("Branches") or [] for item in (branch.get("States") or {}).items()
        )
        if state.get("Type") == "Map":
            found[name] = frozenset(
                kind
                for kind, field in (
                    ("count", "ToleratedFailureCount"),
                    ("percentage", "ToleratedFailurePercentage"),
                )
                if field in state or field + "Path" in state
            )
    return found


def exceeds_tolerance(
    declared: frozenset[str], failed: int, total: int, count: int, percentage: float
) -> bool:
    """Whether a Map run with `failed` of `total` children failed breaks its thresholds, as Step
    Functions decides: with none declared, any failure does; else either declared one exceeded."""
    if not failed:
        return False
    if not declared:
        return True
    return ("count" in declared and failed > count) or (
        "percentage" in declared and failed * 100 > percentage * total
    )


def _start_entry(execution: Any, machine: str | None) -> dict[str, Any]:
    """What the journal keeps of an execution's start."""
    return {
        "arn": execution.exec_arn,
        "machine": machine,
        "name": execution.name,
        "input": execution.execution_input,
        "start": execution.start_date.isoformat(),
    }


_END_KEYS = ("arn", "machine", "name", "input", "start", "status", "stop", "output", "error", "cause")


def _end_entry(record: dict[str, Any]) -> dict[str, Any]:
    """What the journal keeps of an execution's end: everything, so that it alone describes it."""
    return {key: record.get(key) for key in _END_KEYS if key in record}


def _now_date() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


def _now() -> str:
    return _now_date().isoformat()
