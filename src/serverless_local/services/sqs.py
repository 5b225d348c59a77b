"""SQS: the template's queues in moto, every message journaled, and what moto's SQS lacks.

Queues get their `QueueName`, or the logical id (`.fifo` added for a FIFO queue); `!Ref` is the
queue's URL at the local endpoint, `!GetAtt` gives `Arn` and `QueueName`, all known before moto runs.
The template's attributes (visibility timeout, delay, retention, FIFO, `RedrivePolicy` to a dead-letter
queue...) are moto's, which applies them: visibility timeouts, `maxReceiveCount` moving a message to
its dead-letter queue, FIFO groups and deduplication.

Every message a queue takes (from a client, SNS, EventBridge, S3, a Lambda destination, a redrive)
is journaled as it was added, and every deletion, receive count and purge, under one lock that also
serialises moto's queue operations (moto's lists are not safe across threads: a send racing a delete
could lose the message). After a restart each message is back, with its receive count (messages that
were in flight are visible again, as after their visibility timeout). Queues made at the endpoint are
journaled too.

Filled here: `StartMessageMoveTask`, `ListMessageMoveTasks` and `CancelMessageMoveTask` (moving a
dead-letter queue's messages back to their source queue, or to a destination), which moto lacks.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.services.base import Service, ServiceContext
from serverless_local.targets import Delivery, TargetError
from serverless_local.template import TemplateError, Unresolvable

QUEUE_TYPE = "AWS::SQS::Queue"
#: Accepted as declared: the local AWS does not enforce resource policies.
POLICY_TYPE = "AWS::SQS::QueuePolicy"
#: A journal segment this large is folded into a new snapshot.
COMPACT_AFTER_BYTES = 16 * 1024 * 1024
#: The CreateQueue attributes a template's queue may set.
_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
#: Queue-level actions after which a queue made at the endpoint is journaled again.
_QUEUE_ACTIONS = frozenset({"CreateQueue", "SetQueueAttributes", "TagQueue", "UntagQueue", "DeleteQueue"})


def queue_arn(name: str) -> str:
    """The local ARN of the queue `name`."""
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"


def queue_name(arn_or_url: str) -> str:
    """A queue's name from its ARN or URL."""
    return arn_or_url.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


class SqsService(Service):
    """The template's queues in the embedded SQS; messages journaled under `sqs/`."""

    title: ClassVar[str] = "SQS"
    resource_types: ClassVar[frozenset[str]] = frozenset({QUEUE_TYPE, POLICY_TYPE})
    namespace: ClassVar[str | None] = "sqs"
    #: Its names are known without moto; the queues are created in `attach`.
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.store = context.store("sqs")
        self.lock = threading.RLock()
        self.names: dict[str, str] = {}
        self._patches = Patches()
        self._recording = False
        self._tasks: dict[str, dict[str, Any]] = {}
        self._compacting = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Name the template's queues, so `!Ref` and `!GetAtt` resolve before anything runs."""
        template = self.context.template
        for resource in self.resources:
            if resource.type != QUEUE_TYPE:
                continue
            properties = resource.properties
            given = template.resolve(properties.get("QueueName"), resource.logical_id)
            fifo = str(template.resolve(properties.get("FifoQueue"), resource.logical_id)).lower() == "true"
            name = str(given or resource.logical_id)
            self.names[resource.logical_id] = name + ".fifo" if fifo and not name.endswith(".fifo") else name
        template.resolver.providers[QUEUE_TYPE] = self.value
        self.context.targets.register("sqs", self.receive_delivery)

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the URL) and `!GetAtt` (Arn, QueueName, QueueUrl) of a queue."""
        name = self.names[logical_id]
        if attribute is None or attribute == "QueueUrl":
            return self.url(name)
        if attribute == "Arn":
            return queue_arn(name)
        if attribute == "QueueName":
            return name
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def url(self, name: str) -> str:
        """A queue's URL at the local endpoint."""
        return f"{self.context.endpoint}/{ACCOUNT_ID}/{name}"

    def attach(self) -> None:
        """Create the template's queues (dead-letter queues first), restore the journal, hook moto."""
        self._install_hooks()
        created = set(self.backend.queues)
        pending = [r for r in self.resources if r.type == QUEUE_TYPE]
        while pending:  # a queue's dead-letter queue must exist before it
            ready = [r for r in pending if self._dead_letter_target(r) in created | {None}]
            if not ready:
                names = ", ".join(r.logical_id for r in pending)
                raise TemplateError(f"queues {names}: their RedrivePolicy names no queue of the template")
            for resource in ready:
                self._create(resource)
                created.add(self.names[resource.logical_id])
                pending.remove(resource)
        self._restore()  # after the template's queues: their messages go back in them
        self._recording = True

    def stop(self) -> None:
        """Give moto its methods back and close the journal."""
        with self._compacting:
            self._patches.restore()
            self.store.close()

    def report(self) -> str | None:
        """Queues and their messages."""
        with self.lock:
            counts = {name: len(queue._messages) for name, queue in self.backend.queues.items()}
        if not counts:
            return None
        return ", ".join(f"{name} ({count} messages)" for name, count in sorted(counts.items()))

    @property
    def backend(self) -> Any:
        """The one SQS backend."""
        from moto.sqs.models import sqs_backends

        return sqs_backends[ACCOUNT_ID][REGION]

    # -- the template's queues ---------------------------------------------------------------------
    def _attributes(self, resource: Any) -> dict[str, str]:
        properties = self.context.template.resolve(
            {k: v for k, v in resource.properties.items() if k in _ATTRIBUTES}, resource.logical_id
        )
        attributes = {}
        for name, value in properties.items():
            if isinstance(value, dict):
                attributes[name] = json.dumps(value)
            elif isinstance(value, bool):
                attributes[name] = "true" if value else "false"
            else:
                attributes[name] = str(value)
        return attributes

    def _dead_letter_target(self, resource: Any) -> str | None:
        policy = self._attributes(resource).get("RedrivePolicy")
        if not policy:
            return None
        return queue_name(str(json.loads(policy).get("deadLetterTargetArn", "")))

    def _create(self, resource: Any) -> None:
        from moto.core.exceptions import ServiceException

        name = self.names[resource.logical_id]
        attributes = self._attributes(resource)
        if name in self.backend.queues:  # restored from the journal: the template's attributes win
            self.backend.set_queue_attributes(name, attributes)
            return
        try:
            self.backend.create_queue(name, **attributes)
        except ServiceException as error:
            raise TemplateError(f"queue {resource.logical_id}: {error.message}") from None

    # -- deliveries from other services ---------------------------------------------------------------
    def receive_delivery(self, arn: str, delivery: Delivery) -> None:
        """A message from another service (a Lambda destination, a dead-letter queue, a schedule)."""
        from moto.core.exceptions import ServiceException

        try:
            self.backend.send_message(
                queue_name(arn),
                delivery.text,
                message_attributes=delivery.attributes or None,
                group_id=delivery.group_id,
                deduplication_id=delivery.deduplication_id,
            )
        except ServiceException as error:
            raise TargetError(f"{arn}: {error.message}") from None

    # -- the journal -------------------------------------------------------------------------------
    def _journal(self, entries: list[dict[str, Any]]) -> None:
        if not self._recording or not entries:
            return
        self.store.append(entries)
        if self.store.segment_bytes > COMPACT_AFTER_BYTES and not self._compacting.locked():
            threading.Thread(target=self.compact, name="sqs-compaction", daemon=True).start()

    def compact(self) -> None:
        """Fold the journal into a snapshot of every queue and its messages."""
        with self._compacting:
            with self.lock:
                queues = list(self.backend.queues.values())
                attributes = {queue.name: _queue_attributes(queue) for queue in queues}
                messages: dict[str, Any] = {
                    f"{n:04d}": [_message(m) for m in queue._messages] for n, queue in enumerate(queues)
                }
                covers = self.store.rotate()
            files = {queue.name: f"{n:04d}" for n, queue in enumerate(queues)}
            self.store.write_snapshot({"queues": attributes, "files": files}, messages, covers)

    def _restore(self) -> None:
        with self.lock:
            recovered = self.recover(self.store)
            snapshot = recovered.snapshot
            if snapshot is not None:
                for name, attributes in snapshot.manifest["queues"].items():
                    self._replay({"op": "queue", "name": name, "attributes": attributes})
                    for message in snapshot.read(snapshot.manifest["files"][name]):
                        self._replay({"op": "add", "queue": name, "message": message})
            for entry in recovered.journal.entries:
                self._replay(entry)
        if recovered.compact:  # once the server has answered: the first answer waits for none of it
            self.context.background.later.append(self.compact)

    def _replay(self, entry: dict[str, Any]) -> None:
        op = entry.get("op")
        queues = self.backend.queues
        if op == "queue":
            attributes = {k: v for k, v in entry["attributes"].items() if k in _ATTRIBUTES}
            if entry["name"] in queues:
                self.backend.set_queue_attributes(entry["name"], attributes)
            else:
                self.backend.create_queue(entry["name"], **attributes)
        elif op == "delete_queue":
            queues.pop(entry["name"], None)
        elif op == "add" and entry["queue"] in queues:
            state = entry["message"]
            for queue in queues.values():  # a message moves (to a dead-letter queue, back from it)
                queue._messages = [m for m in queue._messages if m.id != state["id"]]
            queues[entry["queue"]]._messages.append(_restored(state))
        elif op == "delete":
            for queue in queues.values():
                queue._messages = [m for m in queue._messages if m.id not in entry["ids"]]
        elif op == "received":
            for queue in queues.values():
                for message in queue._messages:
                    if message.id in entry["counts"]:
                        message.approximate_receive_count, first = entry["counts"][message.id]
                        message.approximate_first_receive_timestamp = first
        elif op == "purge" and entry["queue"] in queues:
            queues[entry["queue"]]._messages = []

    # -- hooks on moto --------------------------------------------------------------------------------
    def _install_hooks(self) -> None:
        from moto.sqs.models import Queue, SQSBackend
        from moto.sqs.responses import SQSResponse

        service = self
        replace = self._patches.replace

        def add_message(queue: Any, message: Any) -> None:
            with service.lock:
                original_add(queue, message)
                if any(m is message for m in queue._messages):  # not dropped as a FIFO duplicate
                    service._journal([{"op": "add", "queue": queue.name, "message": _message(message)}])

        def delete_message(queue: Any, receipt_handle: str) -> None:
            with service.lock:
                ids = [m.id for m in queue._messages if m.had_receipt_handle(receipt_handle)]
                original_delete(queue, receipt_handle)
                service._journal([{"op": "delete", "queue": queue.name, "ids": ids}] if ids else [])

        def receive_message(
            backend: Any, queue_name: str, count: int, wait: int, *args: Any, **kwargs: Any
        ) -> Any:
            deadline = time.monotonic() + int(wait or 0)
            while True:
                with service.lock:
                    received = original_receive(backend, queue_name, count, 0, *args, **kwargs)
                    if received:
                        counts = {
                            m.id: [m.approximate_receive_count, m.approximate_first_receive_timestamp]
                            for m in received
                        }
                        service._journal([{"op": "received", "queue": queue_name, "counts": counts}])
                        return received
                left = deadline - time.monotonic()
                if left <= 0:
                    return received
                backend.get_queue(queue_name).wait_for_messages(min(1.0, left))

        def locked(name: str) -> Any:
            original = getattr(SQSBackend, name)

            def call(backend: Any, *args: Any, **kwargs: Any) -> Any:
                with service.lock:
                    return original(backend, *args, **kwargs)

            return call

        def purge_queue(backend: Any, queue_name: str) -> None:
            with service.lock:
                original_purge(backend, queue_name)
                service._journal([{"op": "purge", "queue": queue_name}])

        original_add = replace(Queue, "add_message", add_message)
        original_delete = replace(Queue, "delete_message", delete_message)
        original_receive = replace(SQSBackend, "receive_message", receive_message)
        original_purge = replace(SQSBackend, "purge_queue", purge_queue)
        for name in ("send_message", "send_message_batch", "change_message_visibility", "delete_queue"):
            replace(SQSBackend, name, locked(name))
        # Unserialised: a long-polling ReceiveMessage must not hold every other request up (the
        # queue operations take `self.lock` themselves).
        self.context.aws.on_action(SQSResponse, None, self._after_action)
        for action, method in _move_task_actions(self).items():
            replace(SQSResponse, action, method)

    def _after_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        """Queues made or changed at the endpoint are journaled (the template's are re-made each start)."""
        if action not in _QUEUE_ACTIONS or not self._recording:
            return
        name = queue_name(str(params.get("QueueUrl") or params.get("QueueName") or ""))
        queue = self.backend.queues.get(name)
        if queue is None:
            self._journal([{"op": "delete_queue", "name": name}])
        else:
            self._journal([{"op": "queue", "name": name, "attributes": _queue_attributes(queue)}])

    # -- StartMessageMoveTask (a dead-letter queue's redrive) ---------------------------------------------
    def move_messages(self, source_arn: str, destination_arn: str | None) -> dict[str, Any]:
        """Move every message of a dead-letter queue to `destination_arn`, or back to the queue each
        came from; the task's description (moto has no message move tasks)."""
        from moto.sqs.exceptions import QueueDoesNotExist

        with self.lock:
            source = self.backend.queues.get(queue_name(source_arn))
            if source is None:
                raise QueueDoesNotExist()
            sources = [q for q in self.backend.queues.values() if q.dead_letter_queue is source]
            if destination_arn is None and not sources:
                raise _invalid("Source queue must be configured as a Dead Letter Queue.")
            destination = self.backend.queues.get(queue_name(destination_arn or sources[0].queue_arn))
            if destination is None:
                raise QueueDoesNotExist()
            moved = 0
            for message in list(source._messages):
                source._messages.remove(message)
                source.pending_messages.discard(message)
                message.approximate_receive_count = 0
                message.visible_at = 0.0
                destination.add_message(message)
                moved += 1
            handle = str(uuid.uuid4())
            task = {
                "TaskHandle": handle,
                "Status": "COMPLETED",
                "SourceArn": source_arn,
                "DestinationArn": destination.queue_arn,
                "ApproximateNumberOfMessagesMoved": moved,
                "ApproximateNumberOfMessagesToMove": moved,
                "StartedTimestamp": int(time.time() * 1000),
            }
            self._tasks[handle] = task
            return task

    def move_tasks(self, source_arn: str) -> list[dict[str, Any]]:
        """The message move tasks of a dead-letter queue, newest first."""
        found = [t for t in self._tasks.values() if t["SourceArn"] == source_arn]
        return sorted(found, key=lambda t: -int(t["StartedTimestamp"]))


def _move_task_actions(service: SqsService) -> dict[str, Any]:
    """SQSResponse methods for the message move task actions moto does not implement."""
    from moto.core.responses import ActionResult

    def start_message_move_task(handler: Any) -> Any:
        task = service.move_messages(handler._get_param("SourceArn"), handler._get_param("DestinationArn"))
        return ActionResult({"TaskHandle": task["TaskHandle"]})

    def list_message_move_tasks(handler: Any) -> Any:
        tasks = service.move_tasks(handler._get_param("SourceArn"))
        limit = int(handler._get_param("MaxResults") or 1)
        return ActionResult(
            {"Results": [{k: v for k, v in t.items() if k != "TaskHandle"} for t in tasks[:limit]]}
        )

    def cancel_message_move_task(handler: Any) -> Any:
        raise _invalid("Only a running message move task can be cancelled; this one has completed.")

    return {
        "start_message_move_task": start_message_move_task,
        "list_message_move_tasks": list_message_move_tasks,
        "cancel_message_move_task": cancel_message_move_task,
    }


def _invalid(message: str) -> Exception:
    """moto's InvalidParameterValue (imported once moto runs)."""
    from moto.sqs.exceptions import InvalidParameterValue

    return InvalidParameterValue(message)


def _queue_attributes(queue: Any) -> dict[str, Any]:
    attributes = {}
    for name, value in queue.attributes.items():
        if name in _ATTRIBUTES and value is not None:
            attributes[name] = json.dumps(value) if isinstance(value, dict) else str(value)
    return attributes


def _message(message: Any) -> dict[str, Any]:
    """A message's state, as the journal keeps it."""
    return {
        "id": message.id,
        "body": message.body,
        "attributes": _jsonable(message.message_attributes),
        "system": _jsonable(message.system_attributes),
        "sent": message.sent_timestamp,
        "group": message.group_id,
        "dedup": message.deduplication_id,
        "sequence": message.sequence_number,
        "count": message.approximate_receive_count,
        "first": message.approximate_first_receive_timestamp,
        "delayed_until": message.delayed_until,
    }


def _restored(state: dict[str, Any]) -> Any:
    from moto.sqs.models import Message

    message = Message(state["id"], state["body"], state.get("system") or {})
    message.message_attributes = copy.deepcopy(state.get("attributes") or {})
    message.sent_timestamp = state.get("sent")
    message.group_id = state.get("group")
    message.deduplication_id = state.get("dedup")
    message.sequence_number = state.get("sequence")
    message.approximate_receive_count = int(state.get("count") or 0)
    message.approximate_first_receive_timestamp = state.get("first")
    message.delayed_until = float(state.get("delayed_until") or 0.0)
    return message


def _jsonable(value: Any) -> Any:
    """Message attributes with binary values as base64 text (as the JSON protocol carries them)."""
    import base64

    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
