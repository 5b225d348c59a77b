"""S3 event notifications: a bucket's `NotificationConfiguration`, and events as S3 sends them.

A bucket's `LambdaConfigurations`, `QueueConfigurations` and `TopicConfigurations` (with their
`Event` and `Filter.S3Key.Rules`), and `EventBridgeConfiguration`, whether the template declares them
on the bucket or a SAM `S3` event adds one for its function, are set on moto's bucket, which decides
which object changes match. What each destination receives is made here, as S3 makes it: the event
record with `userIdentity`, `requestParameters`, `responseElements`, the object's `sequencer` and
`versionId`; a function gets it asynchronously (so Lambda's retries and destinations apply), and with
`EventBridgeConfiguration` the default bus gets an `Object Created`/`Object Deleted` event from
`aws.s3` (moto sent it to every bus, without input transformers).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.targets import Delivery, TargetError, Targets

_KINDS = {
    "LambdaConfigurations": ("CloudFunctionConfiguration", "CloudFunction", "Function"),
    "QueueConfigurations": ("QueueConfiguration", "Queue", "Queue"),
    "TopicConfigurations": ("TopicConfiguration", "Topic", "Topic"),
}


def moto_configuration(declared: dict[str, Any]) -> dict[str, Any]:
    """A template's `NotificationConfiguration` in the shape moto's bucket takes (S3's XML names)."""
    config: dict[str, Any] = {}
    for name, (kind, key, field) in _KINDS.items():
        entries = []
        for entry in declared.get(name) or []:
            events = entry.get("Event") or entry.get("Events")
            made: dict[str, Any] = {
                key: entry[field],
                "Event": events if isinstance(events, list) else [events],
            }
            rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                made["Filter"] = {
                    "S3Key": {"FilterRule": [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]}
                }
            if entry.get("Id"):
                made["Id"] = entry["Id"]
            entries.append(made)
        if entries:
            config[kind] = entries
    if "EventBridgeConfiguration" in declared:
        config["EventBridgeConfiguration"] = {}
    return config


def add_function(backend: Any, bucket: str, function_arn: str, events: list[str], rules: list[Any]) -> None:
    """Add a function's notification to a bucket's configuration (what a SAM `S3` event does)."""
    found = backend.get_bucket(bucket)
    current = _current(found.notification_configuration)
    made: dict[str, Any] = {"CloudFunction": function_arn, "Event": events}
    if rules:
        made["Filter"] = {
            "S3Key": {"FilterRule": [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]}
        }
    current.setdefault("CloudFunctionConfiguration", []).append(made)
    _set(found, current)


def set_configuration(backend: Any, bucket: str, config: dict[str, Any]) -> None:
    """Set a bucket's configuration (merged with what is already there)."""
    found = backend.get_bucket(bucket)
    current = _current(found.notification_configuration)
    for kind, entries in config.items():
        if kind == "EventBridgeConfiguration":
            current[kind] = entries
        else:
            current.setdefault(kind, []).extend(entries)
    _set(found, current)


def _set(bucket: Any, config: dict[str, Any]) -> None:
    from moto.s3.models import NotificationConfiguration

    # Not moto's `set_notification_configuration`: it sends test events to every queue and topic.
    bucket.notification_configuration = NotificationConfiguration(
        topic=config.get("TopicConfiguration"),
        queue=config.get("QueueConfiguration"),
        cloud_function=config.get("CloudFunctionConfiguration"),
        event_bridge=config.get("EventBridgeConfiguration"),
    )


def _current(configuration: Any) -> dict[str, Any]:
    if configuration is None:
        return {}
    current: dict[str, Any] = {}
    for attribute, kind, key in (
        ("topic", "TopicConfiguration", "Topic"),
        ("queue", "QueueConfiguration", "Queue"),
        ("cloud_function", "CloudFunctionConfiguration", "CloudFunction"),
    ):
        entries = [
            {key: n.arn, "Event": list(n.events), "Filter": n.filters, "Id": n.id}
            for n in getattr(configuration, attribute)
        ]
        if entries:
            current[kind] = entries
    if configuration.event_bridge is not None:
        current["EventBridgeConfiguration"] = configuration.event_bridge
    return current


def install(patches: Patches, targets: Targets, quiet: Callable[[], bool]) -> None:
    """Make S3's deliveries S3's own: full records, functions invoked asynchronously, EventBridge's
    default bus; none while `quiet()` (the journal's replay)."""
    from moto.s3 import notifications

    original_event = notifications._get_s3_event
    original_send = notifications.send_event

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event = original_event(event_name, bucket, key, notification_id)
        for record in event["Records"]:
            record["userIdentity"] = {"principalId": "AWS:LOCAL"}
            record["requestParameters"] = {"sourceIPAddress": "127.0.0.1"}
            record["responseElements"] = {
                "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                "x-amz-id-2": uuid.uuid4().hex,
            }
            obj = record["s3"]["object"]
            obj["key"] = quote_plus(key.name, safe="/")  # S3 encodes a key's spaces, not its slashes
            obj["sequencer"] = f"{time.time_ns():016X}"[:16]
            if getattr(key, "version_id", None) and key.version_id != "null":
                obj["versionId"] = key.version_id
            record["s3"]["bucket"]["ownerIdentity"] = {"principalId": "LOCAL"}
        return event

    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        if not quiet():
            original_send(account_id, event_name, bucket, key)

    def invoke_function(account_id: str, event_body: Any, function_arn: str, region_name: str) -> None:
        try:
            targets.deliver(function_arn, Delivery(event_body, source="aws:s3"))
        except TargetError as error:
            print(f"serverless-local: S3 could not notify {function_arn}: {error}", flush=True)

    def to_eventbridge(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        detail: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": {
                "key": key.name,
                "size": key.size,
                "etag": key.etag.replace('"', ""),
                **({"version-id": key.version_id} if getattr(key, "version_id", None) else {}),
                "sequencer": f"{time.time_ns():016X}"[:16],
            },
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": ACCOUNT_ID,
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject" if "Created" in event_name else "DeleteObject",
        }
        if "Removed" in event_name:
            detail["deletion-type"] = "Permanently Deleted"
            detail["object"].pop("size", None)
            detail["object"].pop("etag", None)
        entry = {
            "Source": "aws.s3",
            "DetailType": notifications._detail_type(event_name),
            "Detail": json.dumps(detail),
            "Resources": [f"arn:aws:s3:::{bucket.name}"],
        }
        try:
            targets.deliver(
                f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/default", Delivery(entry, source="aws.s3")
            )
        except TargetError as error:
            print(f"serverless-local: S3 could not send its event to EventBridge: {error}", flush=True)

    patches.replace(notifications, "_get_s3_event", get_s3_event)
    patches.replace(notifications, "send_event", send_event)
    patches.replace(notifications, "_invoke_awslambda", invoke_function)
    patches.replace(notifications, "_send_event_bridge_message", to_eventbridge)


def key_rules(declared: Any) -> list[dict[str, Any]]:
    """A SAM S3 event's `Filter.S3Key.Rules`."""
    if not isinstance(declared, dict):
        return []
    rules = (declared.get("S3Key") or {}).get("Rules") or []
    return [r for r in rules if isinstance(r, dict)]
