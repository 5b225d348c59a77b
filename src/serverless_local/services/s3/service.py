"""S3: the template's buckets in moto, every object written kept in the state directory.

Buckets get their `BucketName`, or the logical id in lower case (a valid bucket name; `!Ref` and
`!GetAtt .Arn` resolve to it before any function's environment is read). The journal hook wraps
moto's `S3Response.bucket_response` and `key_response`, the two doors every request passes (the
endpoint, a presigned URL, the runtime's own in-process calls): after a write it journals the state
of what it touched (the object as it now is, or that it is gone; a bucket made or removed), so
replaying the journal is deterministic. Object bodies go to `s3/objects/` by content hash, the
journal holds their metadata. Bucket settings (policy, lifecycle, encryption) are applied from the
template at each start and not journaled.

A browser-form upload (a presigned POST) is held to its policy as S3 holds it: expiry, the bucket,
key and field conditions, and `content-length-range` (moto stores any form it is sent). The policy's
signature is not checked, as no local signature is.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import sys
import threading
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.journal import private_directory, write_private
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.s3 import notifications as s3_notifications

BUCKET_TYPE = "AWS::S3::Bucket"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class S3Service(Service):
    """The template's buckets in the embedded moto S3; objects journaled under `s3/`."""

    title: ClassVar[str] = "S3"
    resource_types: ClassVar[frozenset[str]] = frozenset({BUCKET_TYPE})
    namespace: ClassVar[str | None] = "s3"
    #: Its names are known without moto (registered in `start`); moto is used from `attach` on.
    uses_moto: ClassVar[bool] = False
    signing_name: ClassVar[str] = "s3"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.store = context.store("s3")
        self.objects = self.store.directory / "objects"
        self.lock = threading.RLock()
        self.names: dict[str, str] = {}
        self._patches = Patches()
        self._replaying = False
        self._hooked = False
        #: What waits for the buckets (notification settings), run once they are restored.
        self._waiting: list[tuple[str, Callable[[Any], None]]] = []

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Name the template's buckets, so `!Ref` and `!GetAtt` resolve for the functions."""
        for resource in self.resources:
            given = self.context.template.resolve(resource.properties.get("BucketName"), resource.logical_id)
            self.names[resource.logical_id] = str(given or resource.logical_id.lower())
        self.context.template.resolver.providers[BUCKET_TYPE] = self.value
        self.context.on_bucket = self.on_bucket

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        """`!Ref` (the name) and `!GetAtt` (Arn, DomainName) of a bucket."""
        name = self.names[logical_id]
        if attribute is None:
            return name
        if attribute == "Arn":
            return f"arn:aws:s3:::{name}"
        if attribute in ("DomainName", "RegionalDomainName"):
            return f"{name}.s3.{REGION}.amazonaws.com"
        from serverless_local.template import Unresolvable

        raise Unresolvable(f"{logical_id}.{attribute} exists only in AWS")

    def attach(self) -> None:
        """Read the journal back (what was damaged goes to the banner), then restore the buckets in the
        background: S3 requests wait for them, unsigned ones (a browser's preflight) too."""
        entries = self.recover(self.store).journal.entries
        for bucket, key in self._missing_bodies(entries):
            self.context.notes.append(f"S3: the body of s3://{bucket}/{key} is missing, not restored")
        warmup = self.warm("the buckets are being restored", lambda: self._restore(entries))
        self.context.aws.hold("", warmup.wait)

    def _restore(self, entries: list[dict[str, Any]]) -> None:
        """Create the buckets, replay the journal, then journal every write from now on."""
        private_directory(self.objects)
        self._replaying = True
        try:
            for bucket in self.names.values():
                self._ensure_bucket(bucket)
            self._apply_cors()
            for entry in entries:
                self._replay(entry)
        finally:
            self._replaying = False
        self._install_hooks()

    def stop(self) -> None:
        """Give moto its methods back and close the journal."""
        self._patches.restore()
        self.store.close()

    def report(self) -> str:
        """Buckets and objects (the template's bucket names while they are being restored)."""
        if not self._hooked:
            return ", ".join(sorted(self.names.values()))
        with self.lock:
            buckets = {name: len(bucket.keys) for name, bucket in self.backend.buckets.items()}
        return ", ".join(f"{name} ({count} objects)" for name, count in sorted(buckets.items()))

    @property
    def backend(self) -> Any:
        """The one S3 backend (global: one partition)."""
        from moto.s3.models import s3_backends

        return s3_backends[ACCOUNT_ID]["aws"]

    # -- journal -----------------------------------------------------------------------------------
    def _ensure_bucket(self, name: str) -> None:
        if name not in self.backend.buckets:
            self.backend.create_bucket(name, REGION)

    def _apply_cors(self) -> None:
        """Each bucket's CorsConfiguration from the template: a browser's presigned PUT is
        preflighted, and moto's S3 answers the preflight from the bucket's rules, as S3 does."""
        for resource in self.resources:
            given = resource.properties.get("CorsConfiguration")
            cors = self.context.template.resolve(given, resource.logical_id)
            if isinstance(cors, dict) and cors.get("CorsRules"):
                rules = [_cors_rule(rule) for rule in cors["CorsRules"]]
                self.backend.put_bucket_cors(self.names[resource.logical_id], rules)

    def _missing_bodies(self, entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """(bucket, key) of the objects the journal keeps whose body file is gone."""
        latest: dict[tuple[str, str], str | None] = {}
        for entry in entries:
            if "key" in entry:
                latest[(entry["bucket"], entry["key"])] = entry.get("blob")
            elif not entry.get("exists", True):
                latest = {(b, k): blob for (b, k), blob in latest.items() if b != entry["bucket"]}
        return [where for where, blob in latest.items() if blob and not (self.objects / blob).exists()]

    def _replay(self, entry: dict[str, Any]) -> None:
        bucket = entry["bucket"]
        if "key" not in entry:
            if entry.get("exists", True):
                self._ensure_bucket(bucket)
            elif bucket in self.backend.buckets:
                self.backend.buckets[bucket].keys.clear()
                self.backend.delete_bucket(bucket)
            return
        if bucket not in self.backend.buckets:
            return
        if entry.get("blob") is None:
            keys = self.backend.buckets[bucket].keys
            if entry["key"] in keys:
                keys.pop(entry["key"])
            return
        blob = self.objects / entry["blob"]
        if not blob.exists():  # said in the banner (`_missing_bodies`)
            return
        key = self.backend.put_object(bucket, entry["key"], blob.read_bytes())
        key.set_metadata(dict(entry.get("metadata") or {}))

    def _object_entry(self, bucket: str, key_name: str) -> dict[str, Any]:
        """The journal entry of one object as it is now (blob None: it is gone)."""
        found = self.backend.buckets.get(bucket)
        key = found.keys.get(key_name) if found is not None else None
        if key is None:
            return {"bucket": bucket, "key": key_name, "blob": None}
        body: bytes = key.value
        digest = hashlib.sha256(body).hexdigest()
        path = self.objects / digest
        if not path.exists():
            write_private(path, body, sync=self.context.options.sync)
        return {"bucket": bucket, "key": key_name, "blob": digest, "metadata": dict(key.metadata)}

    def _install_hooks(self) -> None:
        from moto.s3.responses import S3Response

        service = self

        def key_response(handler: Any, request: Any, full_url: str, headers: Any) -> Any:
            if request.method == "OPTIONS":
                # A browser's CORS preflight of a presigned URL: S3 answers it from the bucket's rules
                # and never checks its signature (moto does, against OPTIONS, and refuses it).
                handler.setup_class(request)
                bucket = handler.parse_bucket_name_from_url(request, full_url)
                return handler._response_options(request.headers, bucket)
            if request.method in _READS:
                return original_key(handler, request, full_url, headers)
            with service.lock:
                answer = original_key(handler, request, full_url, headers)
                if int(answer[0]) < 300:
                    bucket = handler.parse_bucket_name_from_url(request, full_url)
                    service.store.append([service._object_entry(bucket, handler.parse_key_name())])
            return answer

        def bucket_response(handler: Any, request: Any, full_url: str, headers: Any) -> Any:
            if request.method in _READS:
                return original_bucket(handler, request, full_url, headers)
            with service.lock:
                # moto reads a form's file once and closes it: kept, to be read again by moto itself.
                uploads = _keep_files(request)
                handler.setup_class(request)
                _keep_files(request, uploads)
                bucket = handler.parse_bucket_name_from_url(request, full_url)
                form = {name: values[0] for name, values in handler.querystring.items()}
                if request.method == "POST" and "key" in form and bucket:
                    size = len(uploads.get("file", b""))
                    refusal = post_policy_refusal(form, size, bucket, _utc_now())
                    if refusal is not None:
                        return refusal
                before = service._key_names(bucket)
                answer = original_bucket(handler, request, full_url, headers)
                if int(answer[0]) < 300 and bucket:
                    entries = service._bucket_entries(bucket, before, request, full_url)
                    if "key" in form and not any(e.get("key") == form["key"] for e in entries):
                        entries.append(service._object_entry(bucket, form["key"]))  # a form upload over a key
                    service.store.append(entries)
            return answer

        original_key = self._patches.replace(S3Response, "key_response", key_response)
        original_bucket = self._patches.replace(S3Response, "bucket_response", bucket_response)
        s3_notifications.install(self._patches, self.context.targets, lambda: self._replaying)
        with self.lock:
            self._hooked = True
            waiting, self._waiting = self._waiting, []
        for bucket, work in waiting:
            self._run_on(bucket, work)

    def on_bucket(self, bucket: str, work: Callable[[Any], None]) -> None:
        """Run `work(moto's S3 backend)` once `bucket` exists: now if the buckets are restored, else
        when they are. LookupError, before then, for a bucket the template does not declare."""
        with self.lock:
            if not self._hooked:
                if bucket not in self.names.values():
                    raise LookupError(f"no bucket {bucket}")
                self._waiting.append((bucket, work))
                return
        self._run_on(bucket, work)

    def _run_on(self, bucket: str, work: Callable[[Any], None]) -> None:
        from moto.s3.exceptions import MissingBucket

        try:
            work(self.backend)
        except MissingBucket:
            print(f"serverless-local: S3: no bucket {bucket} to notify from", file=sys.stderr, flush=True)
        except Exception as error:  # moto's own validation of a notification setting
            print(
                f"serverless-local: S3: {bucket}'s notifications not set: {error}",
                file=sys.stderr,
                flush=True,
            )

    def connect(self) -> None:
        """The buckets' NotificationConfiguration (their queues, topics and functions exist now)."""
        for resource in self.resources:
            declared = resource.properties.get("NotificationConfiguration")
            if declared:
                config = self.context.template.resolve(
                    declared, f"{resource.logical_id}.NotificationConfiguration"
                )
                bucket = self.names[resource.logical_id]
                self.on_bucket(bucket, _configure(bucket, s3_notifications.moto_configuration(config)))

    def _key_names(self, bucket: str | None) -> set[str]:
        found = self.backend.buckets.get(bucket) if bucket else None
        return set(found.keys.keys()) if found is not None else set()

    def _bucket_entries(
        self, bucket: str, before: set[str], request: Any, full_url: str
    ) -> list[dict[str, Any]]:
        """After a bucket-level write: the bucket made or removed, or the objects a POST changed."""
        exists = bucket in self.backend.buckets
        query = parse_qs(urlparse(full_url).query, keep_blank_values=True)
        if request.method == "PUT" and not query:
            return [{"bucket": bucket, "exists": True}]
        if request.method == "DELETE" and not query:
            return [{"bucket": bucket, "exists": exists}]
        if request.method == "POST":  # multi-object delete, or a browser's form upload
            after = self._key_names(bucket)
            return [self._object_entry(bucket, name) for name in sorted(before ^ after)]
        return []


def post_policy_refusal(
    form: dict[str, str], size: int, bucket: str, now: datetime.datetime
) -> tuple[int, dict[str, str], str] | None:
    """S3's answer refusing a browser-form upload its policy does not allow (None: it does): no
    policy (the bucket is private), an expired one, a condition the form breaks, a file outside
    `content-length-range`."""
    encoded = form.get("policy") or form.get("Policy")
    if not encoded:
        return _refusal(403, "AccessDenied", "Access Denied")
    try:
        policy = json.loads(base64.b64decode(encoded, validate=True))
        expires = datetime.datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy.get("conditions") or [])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return _refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if expires <= now:
        return _refusal(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    fields = {**{name.lower(): value for name, value in form.items()}, "bucket": bucket}
    for condition in conditions:
        if isinstance(condition, dict):
            condition = ["eq", *next(iter(condition.items()))] if len(condition) == 1 else condition
            condition[1] = "$" + str(condition[1])
        if not isinstance(condition, list) or len(condition) != 3:
            return _refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid Simple-Condition.")
        operator, name, expected = condition
        if operator == "content-length-range":
            low, high = int(name), int(expected)
            if size > high:
                return _refusal(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
            if size < low:
                return _refusal(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
                )
            continue
        given = fields.get(str(name).lstrip("$").lower(), "")
        held = given == expected if operator == "eq" else str(given).startswith(str(expected))
        if operator not in ("eq", "starts-with") or not held:
            return _refusal(
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
            )
    return None


def _refusal(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    from xml.sax.saxutils import escape

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    )
    return status, {"Content-Type": "application/xml"}, body


def _keep_files(request: Any, kept: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The bodies of a form's files (read once), each file made readable again from the start."""
    import io

    files = getattr(request, "files", None) or {}
    if kept is None:
        kept = {name: storage.stream.read() for name, storage in files.items()}
    for name, storage in files.items():
        storage.stream = io.BytesIO(kept[name])
    return kept


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC)


_CORS_NAMES = {
    "AllowedMethods": "AllowedMethod",
    "AllowedOrigins": "AllowedOrigin",
    "AllowedHeaders": "AllowedHeader",
    "ExposedHeaders": "ExposeHeader",
    "Id": "ID",
}


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A template's CorsRule as moto's bucket takes it (the names of S3's XML)."""
    converted = {_CORS_NAMES[name]: value for name, value in rule.items() if name in _CORS_NAMES}
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = str(rule["MaxAge"])
    return converted


def _configure(bucket: str, configuration: Any) -> Callable[[Any], None]:
    """What sets `bucket`'s NotificationConfiguration in moto's backend, once the bucket exists."""

    def configure(backend: Any) -> None:
        s3_notifications.set_configuration(backend, bucket, configuration)

    return configure
