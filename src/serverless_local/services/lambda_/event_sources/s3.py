"""S3 events: a function notified of a bucket's object changes.

A SAM `S3` event adds the function to its bucket's notification configuration (its `Events` and
`Filter.S3Key.Rules` prefix and suffix), as SAM's transform does; S3 then invokes it asynchronously
with its event record for each matching change (services/s3/notifications.py).
"""

from __future__ import annotations

from typing import ClassVar

from serverless_local.services.lambda_.event_sources.base import EventSource, EventTarget
from serverless_local.services.s3 import notifications as s3_notifications
from serverless_local.stack import Event
from serverless_local.template import TemplateError


class S3Events(EventSource):
    """SAM `S3` events."""

    event_types: ClassVar[frozenset[str]] = frozenset({"S3"})

    def connect(self, event: Event, target: EventTarget) -> None:
        """The function in its bucket's notification configuration."""
        bucket = str(self.required(event, "Bucket"))
        declared = self.required(event, "Events")
        events = [str(e) for e in (declared if isinstance(declared, list) else [declared])]
        rules = s3_notifications.key_rules(self.resolve(event, event.properties.get("Filter"), "Filter"))
        on_bucket = self.context.on_bucket
        if on_bucket is None:
            raise TemplateError(f"{event.owner}.Events.{event.event_id}: S3 is not running")
        try:  # once the buckets are restored (in the background)
            on_bucket(
                bucket,
                lambda backend: s3_notifications.add_function(backend, bucket, target.arn, events, rules),
            )
        except LookupError:
            raise TemplateError(f"{event.owner}.Events.{event.event_id}: no bucket {bucket}") from None
        self.connected(f"{target.logical_id} <- S3 {bucket} ({', '.join(events)})")
