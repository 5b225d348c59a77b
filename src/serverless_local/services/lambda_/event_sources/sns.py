"""SNS events: a function subscribed to a topic, or fed through a queue subscribed to it.

A SAM `SNS` event subscribes the function (protocol `lambda`, with its `FilterPolicy` and
`FilterPolicyScope`); each notification then reaches it as SNS delivers to Lambda, asynchronously
(services/sns.py). With `SqsSubscription`, SAM puts a queue between them: the queue (made here, or the
one it names) is subscribed to the topic and the function is fed by an event source mapping on it.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from serverless_local.services.lambda_.event_sources.base import EventSource, EventTarget
from serverless_local.services.lambda_.event_sources.poller import stable_uuid
from serverless_local.stack import Event
from serverless_local.template import TemplateError

_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RedrivePolicy")


class SnsEvents(EventSource):
    """SAM `SNS` events."""

    event_types: ClassVar[frozenset[str]] = frozenset({"SNS"})
    makes_mappings: ClassVar[bool] = True

    def connect(self, event: Event, target: EventTarget) -> None:
        """Subscribe the function (or a queue feeding it) to the topic."""
        topic = str(self.required(event, "Topic"))
        attributes = {
            name: _text(self.resolve(event, event.properties[name], name))
            for name in _ATTRIBUTES
            if name in event.properties
        }
        client = self.context.aws.client("sns")
        via_queue = self.resolve(event, event.properties.get("SqsSubscription"), "SqsSubscription")
        if via_queue:
            queue_arn, batch_size = self._queue(event, target, via_queue)
            attributes["RawMessageDelivery"] = "false"
            self._subscribe(client, event, topic, "sqs", queue_arn, attributes)
            spec: dict[str, Any] = {
                "EventSourceArn": queue_arn,
                "FunctionName": target.arn,
                "BatchSize": batch_size,
            }
            self.runtime.mappings.create(spec, stable_uuid(target.logical_id, event.event_id))
            self.connected(f"{target.logical_id} <- SNS {topic.rsplit(':', 1)[-1]} (through a queue)")
            return
        self._subscribe(client, event, topic, "lambda", target.arn, attributes)
        self.connected(f"{target.logical_id} <- SNS {topic.rsplit(':', 1)[-1]}")

    def _subscribe(
        self, client: Any, event: Event, topic: str, protocol: str, endpoint: str, attributes: dict[str, str]
    ) -> None:
        try:
            client.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes)
        except client.exceptions.ClientError as error:
            raise TemplateError(
                f"{event.owner}.Events.{event.event_id}: SNS refuses the subscription: "
                f"{error.response['Error']['Message']}"
            ) from None

    def _queue(self, event: Event, target: EventTarget, declared: Any) -> tuple[str, int]:
        """The queue between the topic and the function: the one `SqsSubscription` names, or SAM's own."""
        options = declared if isinstance(declared, dict) else {}
        batch_size = int(options.get("BatchSize") or 10)
        if options.get("QueueArn"):
            return str(options["QueueArn"]), batch_size
        sqs = self.context.aws.client("sqs")
        name = f"{target.logical_id}{event.event_id}Queue"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return str(arn), batch_size


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
