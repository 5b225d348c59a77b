"""SNS: the template's topics and subscriptions in moto, and deliveries to Lambda as SNS makes them.

Topics get their `TopicName`, or the logical id (`.fifo` added for a FIFO topic); `!Ref` and
`!GetAtt .TopicArn` give the ARN, `.TopicName` the name. A topic's `Subscription` list and
`AWS::SNS::Subscription` resources (with `FilterPolicy`, `FilterPolicyScope`, `RawMessageDelivery`)
are subscribed once every service is attached. moto delivers to SQS queues (and HTTP endpoints) and
applies filter policies; a delivery to a function is made here instead, as SNS makes it: Lambda's SNS
event (`Records[].Sns` with the message, its id, subject, attributes, the topic and subscription
ARNs), handed to the function as an asynchronous invocation (its retries, destinations and dead-letter
queue apply). Topics and subscriptions made at the endpoint are journaled and made again at start.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.services.base import Service, ServiceContext
from serverless_local.targets import Delivery, TargetError
from serverless_local.template import TemplateError, Unresolvable

TOPIC_TYPE = "AWS::SNS::Topic"
SUBSCRIPTION_TYPE = "AWS::SNS::Subscription"
#: Accepted as declared: the local AWS does not enforce resource policies.
POLICY_TYPE = "AWS::SNS::TopicPolicy"
#: The subscription attributes a template (or a SAM SNS event) may set.
SUBSCRIPTION_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy")
_TOPIC_ACTIONS = frozenset(
    {
        "CreateTopic",
        "DeleteTopic",
        "SetTopicAttributes",
        "Subscribe",
        "Unsubscribe",
        "SetSubscriptionAttributes",
    }
)


def topic_arn(name: str) -> str:
    """The local ARN of the topic `name`."""
    return f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}"


def lambda_event(
    subscription: Any, message: str, message_id: str, subject: str | None, attributes: Any
) -> Any:
    """The event SNS sends a subscribed function."""
    now = time.time()
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": subscription.topic.arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                    + f".{int(now * 1000) % 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": "",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": dict(attributes or {}),
                },
            }
        ]
    }


class SnsService(Service):
    """The template's topics and subscriptions in the embedded SNS."""

    title: ClassVar[str] = "SNS"
    resource_types: ClassVar[frozenset[str]] = frozenset({TOPIC_TYPE, SUBSCRIPTION_TYPE, POLICY_TYPE})
    namespace: ClassVar[str | None] = "sns"
    uses_moto: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.store = context.store("sns")
        self.names: dict[str, str] = {}
        self.lock = threading.RLock()
        self._patches = Patches()
        self._recording = False
        self.subscriptions: dict[str, str] = {}

    def start(self) -> None:
        """Name the template's topics (for `!Ref`), and receive deliveries for topic ARNs."""
        template = self.context.template
        for resource in self.resources:
            if resource.type != TOPIC_TYPE:
                continue
            given = template.resolve(resource.properties.get("TopicName"), resource.logical_id)
            fifo = str(template.resolve(resource.properties.get("FifoTopic"), resource.logical_id)).lower()
            name = str(given or resource.logical_id)
            self.names[resource.logical_id] = (
                name + ".fifo" if fifo == "true" and not name.endswith(".fifo") else name
            )
        template.resolver.providers[TOPIC_TYPE] = self.value
        template.resolver.providers[SUBSCRIPTION_TYPE] = self.subscription_value
        self.context.targets.register("sns", self.receive_delivery)

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the ARN) and `!GetAtt` (TopicArn, TopicName) of a topic."""
        name = self.names[logical_id]
        if attribute in (None, "TopicArn"):
            return topic_arn(name)
        if attribute == "TopicName":
            return name
        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def subscription_value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` of a subscription: its ARN, once it is made."""
        if attribute is None and logical_id in self.subscriptions:
            return self.subscriptions[logical_id]
        raise Unresolvable(f"{logical_id} exists only in AWS")

    @property
    def backend(self) -> Any:
        """The one SNS backend."""
        from moto.sns.models import sns_backends

        return sns_backends[ACCOUNT_ID][REGION]

    def attach(self) -> None:
        """Create the topics, restore those made at the endpoint, install the hooks."""
        self._install_hooks()
        for entry in self.recover(self.store).journal.entries:
            self._replay(entry)
        for resource in self.resources:
            if resource.type == TOPIC_TYPE:
                self._create_topic(resource)

    def connect(self) -> None:
        """Subscribe what the template subscribes (queues and functions exist now)."""
        template = self.context.template
        for resource in self.resources:
            where = resource.logical_id
            if resource.type == TOPIC_TYPE:
                for entry in template.resolve(resource.properties.get("Subscription") or [], where):
                    self.subscribe(
                        topic_arn(self.names[where]), str(entry["Protocol"]), str(entry["Endpoint"]), {}
                    )
            elif resource.type == SUBSCRIPTION_TYPE:
                properties = template.resolve(resource.properties, where)
                attributes = {k: properties[k] for k in SUBSCRIPTION_ATTRIBUTES if k in properties}
                made = self.subscribe(
                    str(properties["TopicArn"]),
                    str(properties["Protocol"]),
                    str(properties["Endpoint"]),
                    attributes,
                )
                self.subscriptions[where] = made
        self._recording = True

    def subscribe(self, topic: str, protocol: str, endpoint: str, attributes: dict[str, Any]) -> str:
        """Subscribe `endpoint` to `topic` (a TemplateError names what SNS refused); the subscription ARN."""
        client = self.context.aws.client("sns")
        shaped = {
            k: json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in attributes.items()
        }
        try:
            made = client.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=shaped)
        except client.exceptions.ClientError as error:
            raise TemplateError(
                f"cannot subscribe {endpoint} to {topic}: {error.response['Error']['Message']}"
            ) from None
        return str(made["SubscriptionArn"])

    def stop(self) -> None:
        """Give moto its methods back and close the journal."""
        self._patches.restore()
        self.store.close()

    def report(self) -> str | None:
        """Topics and their subscriptions."""
        topics = list(self.backend.topics.values())
        if not topics:
            return None
        counts = {t.name: len(self.backend._get_topic_subscriptions(t)) for t in topics}
        return ", ".join(f"{name} ({count} subscriptions)" for name, count in sorted(counts.items()))

    def _create_topic(self, resource: Any) -> None:
        template = self.context.template
        properties = template.resolve(resource.properties, resource.logical_id)
        attributes = {}
        for name in ("FifoTopic", "ContentBasedDeduplication", "DisplayName"):
            if name in properties:
                value = properties[name]
                attributes[name] = str(value).lower() if isinstance(value, bool) else str(value)
        made = self.backend.create_topic(self.names[resource.logical_id], attributes)
        made.fifo_topic = attributes.get("FifoTopic") == "true"
        made.content_based_deduplication = attributes.get("ContentBasedDeduplication") == "true"

    # -- deliveries ---------------------------------------------------------------------------------------
    def receive_delivery(self, arn: str, delivery: Delivery) -> None:
        """A notification from another service (a destination, a dead-letter topic, a rule, a schedule)."""
        from moto.core.exceptions import ServiceException

        try:
            self.backend.publish(
                delivery.text,
                arn,
                subject=delivery.subject,
                message_attributes=_sns_attributes(delivery.attributes),
                group_id=delivery.group_id,
                deduplication_id=delivery.deduplication_id,
            )
        except (ServiceException, ValueError) as error:
            raise TargetError(f"{arn}: {error}") from None

    def _install_hooks(self) -> None:
        from moto.sns.models import Subscription
        from moto.sns.responses import SNSResponse

        service = self

        def publish(
            subscription: Any,
            message: str,
            message_id: str,
            subject: str | None = None,
            message_attributes: Any = None,
            *args: Any,
            **kwargs: Any,
        ) -> None:
            if subscription.protocol != "lambda":
                original(subscription, message, message_id, subject, message_attributes, *args, **kwargs)
                return
            matcher = subscription._filter_policy_matcher
            if matcher is not None and not matcher.matches(message_attributes, message):
                return
            if kwargs.get("message_structure") == "json":
                message = subscription._parse_message_structure(message, "lambda")
            event = lambda_event(subscription, message, message_id, subject, message_attributes)
            try:
                service.context.targets.deliver(subscription.endpoint, Delivery(event, source="aws:sns"))
            except TargetError as error:
                print(
                    f"serverless-local: SNS could not deliver to {subscription.endpoint}: {error}", flush=True
                )

        original = self._patches.replace(Subscription, "publish", publish)
        self.context.aws.on_action(SNSResponse, self.lock, self._after_action)

    # -- the journal of what the endpoint made ---------------------------------------------------------
    def _after_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action not in _TOPIC_ACTIONS or not self._recording:
            return
        arn = params.get("TopicArn") or (topic_arn(params["Name"]) if params.get("Name") else None)
        if arn is None and params.get("SubscriptionArn"):
            arn = str(params["SubscriptionArn"]).rsplit(":", 1)[0]
        if arn is None:
            return
        topic = self.backend.topics.get(arn)
        if topic is None:
            self.store.append([{"op": "deleted", "arn": arn}])
            return
        subscriptions = [
            {
                "arn": s.arn,
                "protocol": s.protocol,
                "endpoint": s.endpoint,
                "attributes": {k: v for k, v in s.attributes.items() if k in SUBSCRIPTION_ATTRIBUTES},
            }
            for s in self.backend._get_topic_subscriptions(topic)
        ]
        attributes = {
            "FifoTopic": str(topic.fifo_topic).lower(),
            "ContentBasedDeduplication": str(topic.content_based_deduplication).lower(),
        }
        self.store.append(
            [{"op": "topic", "name": topic.name, "attributes": attributes, "subscriptions": subscriptions}]
        )

    def _replay(self, entry: dict[str, Any]) -> None:
        backend = self.backend
        if entry["op"] == "deleted":
            topic = backend.topics.get(entry["arn"])
            if topic is not None:
                backend.delete_topic(entry["arn"])
            return
        attributes = {k: v for k, v in entry["attributes"].items() if v == "true"}
        topic = backend.create_topic(entry["name"], attributes)
        topic.fifo_topic = attributes.get("FifoTopic") == "true"
        topic.content_based_deduplication = attributes.get("ContentBasedDeduplication") == "true"
        for old in backend._get_topic_subscriptions(topic):
            backend.subscriptions.pop(old.arn, None)
        for stored in entry["subscriptions"]:
            made = backend.subscribe(topic.arn, stored["endpoint"], stored["protocol"])
            backend.subscriptions.pop(made.arn)
            made.arn = made.attributes["SubscriptionArn"] = stored["arn"]
            backend.subscriptions[made.arn] = made
            for name, value in stored["attributes"].items():
                backend.set_subscription_attributes(made.arn, name, value)


def _sns_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes in SNS's shape, from SQS's (DataType/StringValue) or SNS's own (Type/Value)."""
    shaped = {}
    for name, value in attributes.items():
        if "DataType" in value:
            shaped[name] = {
                "Type": value["DataType"],
                "Value": value.get("StringValue") or value.get("BinaryValue"),
            }
        else:
            shaped[name] = value
    return shaped
