"""An embedded AWS: moto's DynamoDB, in-process for the handler and on a local endpoint for tools.

Two hooks on moto's DynamoDB request handler (`DynamoHandler`), the one place both the in-process
mock and the HTTP endpoint pass through:
- every account and region resolve to one backend, so any credentials or region see the same tables;
- every successful write is journaled (the state it left behind) before the response leaves.
moto is pinned (see requirements/lock.txt); tests/unit/test_embedded_aws.py exercises both hooks.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from serverless_local.journal import JournalContents, Store, TableImage

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
HOOKED_MOTO_VERSION = "5.2.5"
#: A journal segment this large is folded into a new snapshot (replaying it would slow start-up).
COMPACT_AFTER_BYTES = 16 * 1024 * 1024

#: Writes whose effect is known item by item; everything else that writes is journaled as an image.
ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
READ_PREFIXES = ("Get", "BatchGet", "Describe", "List", "Query", "Scan", "TransactGet")
PARTIQL = frozenset({"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
#: Accepted by the endpoint but not kept across restarts (documented in README).
NOT_KEPT = frozenset(
    {
        "TagResource",
        "UntagResource",
        "CreateBackup",
        "DeleteBackup",
        "UpdateContinuousBackups",
        "UpdateContributorInsights",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
        "ExportTableToPointInTime",
        "EnableKinesisStreamingDestination",
        "DisableKinesisStreamingDestination",
    }
)

log = logging.getLogger("serverless_local")


# -- DynamoDB JSON with binary values as base64 (the export format) ---------------------------------
def _convert(value: dict[str, Any], binary: Callable[[Any], Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": binary(inner)}
    if kind == "BS":
        return {"BS": [binary(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _convert(v, binary) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_convert(v, binary) for v in inner]}
    return value


def _to_text(raw: Any) -> str:
    return base64.b64encode(raw).decode() if isinstance(raw, bytes) else str(raw)


def to_export(item: dict[str, Any]) -> dict[str, Any]:
    """An item as moto holds it (binary as bytes) in DynamoDB's export JSON (binary as base64)."""
    return {name: _convert(value, _to_text) for name, value in item.items()}


def from_export(item: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `to_export`."""
    return {name: _convert(value, base64.b64decode) for name, value in item.items()}


def _create_params(description: dict[str, Any]) -> dict[str, Any]:
    """CreateTable parameters that rebuild a table from its DescribeTable description."""
    billing = (description.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    params: dict[str, Any] = {
        "TableName": description["TableName"],
        "KeySchema": description["KeySchema"],
        "AttributeDefinitions": description["AttributeDefinitions"],
        "BillingMode": billing,
    }

    def throughput(source: dict[str, Any]) -> dict[str, int]:
        given = source.get("ProvisionedThroughput") or {}
        return {
            "ReadCapacityUnits": int(given.get("ReadCapacityUnits") or 1),
            "WriteCapacityUnits": int(given.get("WriteCapacityUnits") or 1),
        }

    if billing == "PROVISIONED":
        params["ProvisionedThroughput"] = throughput(description)
    gsis = [
        {
            "IndexName": index["IndexName"],
            "KeySchema": index["KeySchema"],
            "Projection": index["Projection"],
            **({"ProvisionedThroughput": throughput(index)} if billing == "PROVISIONED" else {}),
        }
        for index in description.get("GlobalSecondaryIndexes") or []
    ]
    lsis = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        for i in description.get("LocalSecondaryIndexes") or []
    ]
    if gsis:
        params["GlobalSecondaryIndexes"] = gsis
    if lsis:
        params["LocalSecondaryIndexes"] = lsis
    stream = description.get("StreamSpecification")
    if stream and stream.get("StreamEnabled"):
        params["StreamSpecification"] = stream
    return params


@dataclass
class StartReport:
    """What start-up found in the state directory."""

    snapshot_items: int = 0
    journal_entries: int = 0
    damaged: JournalContents | None = None


class EmbeddedAws:
    """moto's DynamoDB with one backend for every account and region, journaled to a Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Serialises DynamoDB operations: moto's tables are plain dicts, and a journaled write
        #: must be read back before another write to the same item lands.
        self.lock = threading.RLock()
        #: Off while the state is rebuilt from disk; on once `load` has run.
        self.recording = False
        #: The thread inside a DynamoDB request, if any (a timed-out handler is not interrupted there),
        #: and what to call when a request is done and journaled (a deferred interrupt may be due).
        self.busy_thread: int | None = None
        self.after_request: Callable[[], None] = lambda: None
        self._compaction = threading.Lock()
        self._mock: Any = None
        self._server: Any = None
        self._client: Any = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the in-process mock (dummy credentials for this process only) and install the hooks."""
        import moto
        from moto import mock_aws

        if moto.__version__ != HOOKED_MOTO_VERSION:
            log.warning("moto %s is not the version the hooks were tested with", moto.__version__)
        # The handler's clients must reach the mock, not an endpoint configured for real AWS.
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")] + ["AWS_PROFILE"]:
            os.environ.pop(name, None)
        os.environ.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
        self._mock = mock_aws()
        self._mock.start()
        _install_hooks(self)

    def serve_endpoint(self, host: str, port: int) -> str:
        """Serve DynamoDB's HTTP API on host:port (0 picks a free port); returns the endpoint URL.

        The server is bound here, so a port in use fails now with OSError, before anything is served.
        """
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        # A short poll interval: shutdown() waits for the loop to notice, and Ctrl-C should be quick.
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="dynamodb-endpoint", daemon=True
        ).start()
        bound_host, bound_port = self._server.server_address[:2]
        return f"http://{bound_host}:{bound_port}"

    def stop(self) -> None:
        """Stop the endpoint and the mock; the journal is closed by its owner."""
        server, mock, self._server, self._mock = self._server, self._mock, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if mock is not None:
            mock.stop(remove_data=False)
        _uninstall_hooks(self)

    @property
    def backend(self) -> Any:
        """The one DynamoDB backend every account and region sees."""
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT_ID][REGION]

    def client(self) -> Any:
        """A botocore DynamoDB client on the in-process mock (for table operations)."""
        if self._client is None:
            import botocore.session

            self._client = botocore.session.get_session().create_client(
                "dynamodb",
                region_name=REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 (the mock's dummy credentials)
            )
        return self._client

    # -- state -------------------------------------------------------------------------------------
    def load(self) -> StartReport:
        """Rebuild the tables from the snapshot and the journal (before serving anything)."""
        report = StartReport()
        with self.lock:
            snapshot = self.store.read_snapshot()
            self._apply_image(snapshot)
            report.snapshot_items = sum(len(t.items) for t in snapshot.values())
            contents = self.store.read_journal()
            for entry in contents.entries:
                self._replay(entry)
            report.journal_entries = len(contents.entries)
            if contents.damaged_at_line is not None:
                report.damaged = contents
                self.store.set_aside_damaged(contents)
            self.recording = True
        return report

    def ensure_tables(self, tables: dict[str, dict[str, Any]], ttl: dict[str, dict[str, Any]]) -> list[str]:
        """Create the template's tables (CreateTable parameters by logical id) that do not exist yet.

        Returns notes on existing tables whose keys differ from the template's.
        """
        notes = []
        with self.lock:
            for params in tables.values():
                name = params["TableName"]
                existing = self.backend.tables.get(name)
                if existing is None:
                    self.client().create_table(**params)
                    if name in ttl:
                        self.client().update_time_to_live(TableName=name, TimeToLiveSpecification=ttl[name])
                elif existing.schema != params["KeySchema"]:
                    notes.append(
                        f"table {name} in the state directory has other keys than the template "
                        "declares (start with --fresh to rebuild it)"
                    )
        return notes

    def images(self) -> dict[str, TableImage]:
        """Every table as it is now: definition, TTL and items."""
        with self.lock:
            return {name: self._image(table) for name, table in list(self.backend.tables.items())}

    def item_count(self) -> int:
        """How many items all tables hold."""
        with self.lock:
            return sum(len(table) for table in self.backend.tables.values())

    def compact(self) -> None:
        """Snapshot the current state; only capturing it holds up DynamoDB requests, not writing it."""
        with self._compaction:
            with self.lock:
                images = self.images()
                covers = self.store.rotate()
            self.store.write_snapshot(images, covers)

    def compact_in_background(self) -> None:
        """Compact on a thread of its own, unless a compaction is already running."""
        if not self._compaction.locked():
            threading.Thread(target=self.compact, name="compaction", daemon=True).start()

    def _record(self, action: str, params: dict[str, Any]) -> None:
        """Journal what a successful request changed; compact when the journal has grown large."""
        self.store.append(self.changes(action, params))
        if self.store.segment_bytes > COMPACT_AFTER_BYTES:
            self.compact_in_background()

    # -- internals ---------------------------------------------------------------------------------
    def _image(self, table: Any) -> TableImage:
        description = table.describe(base_key="Table")["Table"]
        ttl = table.ttl if table.ttl.get("TimeToLiveStatus") == "ENABLED" else None
        return TableImage(
            create=_create_params(description),
            ttl={"AttributeName": ttl["AttributeName"], "Enabled": True} if ttl else None,
            items=[to_export(item.to_json()["Attributes"]) for item in table.all_items()],
        )

    def _apply_image(self, tables: dict[str, TableImage], *, replace_all: bool = False) -> None:
        if replace_all:
            self.backend.tables.clear()
        for name, image in tables.items():
            self.backend.tables.pop(name, None)
            self.client().create_table(**image.create)
            if image.ttl:
                self.client().update_time_to_live(TableName=name, TimeToLiveSpecification=image.ttl)
            table = self.backend.get_table(name)
            for item in image.items:
                _restore_item(table, from_export(item))

    def _replay(self, entry: dict[str, Any]) -> None:
        op = entry.get("op")
        try:
            if op == "put":
                _restore_item(self.backend.get_table(entry["table"]), from_export(entry["item"]))
            elif op == "delete":
                self.backend.delete_item(entry["table"], from_export(entry["key"]))
            elif op == "create_table":
                self.backend.tables.pop(entry["params"]["TableName"], None)
                self.client().create_table(**entry["params"])
            elif op == "delete_table":
                self.backend.tables.pop(entry["table"], None)
            elif op == "update_table":
                self.client().update_table(**entry["params"])
            elif op == "update_ttl":
                self.client().update_time_to_live(**entry["params"])
            elif op == "image":
                images = {n: TableImage(**t) for n, t in entry["tables"].items()}
                self._apply_image(images, replace_all=True)
        except Exception as error:
            log.warning("journal entry %s skipped: %s", op, error)

    def changes(self, action: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Journal entries describing what a successful `action` changed (called under the lock)."""
        if action in ITEM_WRITES:
            return [self._item_state(table, key) for table, key in _written_keys(self, action, params)]
        if action == "CreateTable":
            return [{"op": "create_table", "params": params}]
        if action == "DeleteTable":
            return [{"op": "delete_table", "table": params["TableName"].rpartition("table/")[2]}]
        if action == "UpdateTable":
            return [{"op": "update_table", "params": params}]
        if action == "UpdateTimeToLive":
            return [{"op": "update_ttl", "params": params}]
        if action.startswith(READ_PREFIXES) or action in NOT_KEPT:
            return []
        if action in PARTIQL and all(s.lstrip().upper().startswith("SELECT") for s in _statements(params)):
            return []
        images = self.images()
        tables = {n: {"create": i.create, "ttl": i.ttl, "items": i.items} for n, i in images.items()}
        return [{"op": "image", "tables": tables}]

    def _item_state(self, table_name: str, key: dict[str, Any]) -> dict[str, Any]:
        table = self.backend.get_table(table_name)
        item = table.get_item(*self._key_values(table, key))
        if item is None:
            return {"op": "delete", "table": table.name, "key": to_export(key)}
        return {"op": "put", "table": table.name, "item": to_export(item.to_json()["Attributes"])}

    @staticmethod
    def _key_values(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return DynamoType(key[table.hash_key_attr]), range_value

    def key_of(self, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        """The primary key attributes of an item."""
        table = self.backend.get_table(table_name)
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        return {name: item[name] for name in names}


def _restore_item(table: Any, attributes: dict[str, Any]) -> None:
    """Put an item that was valid when it was written, without moto's per-write checks.

    moto's Item re-measures the whole item for each attribute it sets (quadratic, ~0.2 ms for a
    record): fine per request, too slow for 10,000 records at start-up. The size check is skipped by
    filling its LimitedSizeDict with dict.update, which does not call the overridden __setitem__.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    item: Any = Item.__new__(Item)
    item.hash_key = DynamoType(attributes[table.hash_key_attr])
    item.range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    item.attrs = LimitedSizeDict()
    item.attrs.update({name: DynamoType(value) for name, value in attributes.items()})
    if item.range_key is not None:
        table.items[item.hash_key][item.range_key] = item
    else:
        table.items[item.hash_key] = item


def _statements(params: dict[str, Any]) -> Iterator[str]:
    if "Statement" in params:
        yield params["Statement"]
    for entry in params.get("Statements") or params.get("TransactStatements") or []:
        yield entry["Statement"]


def _written_keys(aws: EmbeddedAws, action: str, params: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(table, key) of every item a successful item write touched."""
    if action == "PutItem":
        yield params["TableName"], aws.key_of(params["TableName"], params["Item"])
    elif action in ("UpdateItem", "DeleteItem"):
        yield params["TableName"], params["Key"]
    elif action == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    yield table, aws.key_of(table, request["PutRequest"]["Item"])
                else:
                    yield table, request["DeleteRequest"]["Key"]
    elif action == "TransactWriteItems":
        for entry in params["TransactItems"]:
            if "Put" in entry:
                yield entry["Put"]["TableName"], aws.key_of(entry["Put"]["TableName"], entry["Put"]["Item"])
            for kind in ("Update", "Delete"):
                if kind in entry:
                    yield entry[kind]["TableName"], entry[kind]["Key"]


_installed: list[EmbeddedAws] = []
_originals: dict[str, Any] = {}


def _install_hooks(aws: EmbeddedAws) -> None:
    """Route every account/region to one backend and journal successful writes."""
    from moto.dynamodb.responses import DynamoHandler

    if _installed:
        raise RuntimeError("an embedded AWS is already running in this process")
    _installed.append(aws)
    _originals.update(
        call_action=DynamoHandler.__dict__["call_action"],
        dynamodb_backend=DynamoHandler.__dict__["dynamodb_backend"],
    )
    original = DynamoHandler.call_action

    def call_action(handler: Any) -> Any:
        with aws.lock:
            aws.busy_thread = threading.get_ident()
            try:
                status, headers, body = original(handler)
                if status < 300 and aws.recording:
                    aws._record(handler._get_action(), getattr(handler, "params", None) or {})
            finally:
                aws.busy_thread = None
        aws.after_request()
        return status, headers, body

    # setattr: patching moto's class is the point here, and mypy rightly objects to method assignment.
    setattr(DynamoHandler, "call_action", call_action)  # noqa: B010
    setattr(DynamoHandler, "dynamodb_backend", property(lambda handler: aws.backend))  # noqa: B010


def _uninstall_hooks(aws: EmbeddedAws) -> None:
    """Give moto its own methods back (tests start and stop embedded AWSes in one process)."""
    from moto.dynamodb.responses import DynamoHandler

    if _installed and _installed[0] is aws:
        for name, value in _originals.items():
            setattr(DynamoHandler, name, value)
        _installed.clear()
