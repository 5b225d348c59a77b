"""DynamoDB: the template's tables in moto, every successful write journaled, reads kept fast.

The journal hook runs inside moto's `DynamoHandler.call_action`, the one place the endpoint and the
runtime's own in-process calls pass through, under one lock: a journaled write is read back before
another write lands. Entries describe states, not requests (the item as it is after the write, a
table as created), so replaying them is deterministic.

Hooks keep reads from costing O(table) each (moto sorts every item on every Scan and Query): the
sorted order is computed once per change (with native keys, not moto's slow comparisons), a Query on
the table or a GSI reads only the window of its page in an order kept current by every item write
(serverless_local.services.dynamodb.indexes), a Scan page starts at its ExclusiveStartKey by bisection, item
sizes are measured once per change, and a page without a projection is not deep-copied (it is only
serialised, under the lock). tests/unit/test_embedded_aws.py and tests/e2e/test_index_queries.py
check they answer exactly what moto does.
"""

from __future__ import annotations

import base64
import bisect
import copy
import inspect
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from serverless_local.embedded_aws import ACCOUNT_ID, REGION, Patches
from serverless_local.journal import JournalContents, SnapshotError
from serverless_local.services.base import Service, ServiceContext
from serverless_local.services.dynamodb import streams as dynamodb_streams
from serverless_local.services.dynamodb.indexes import IndexOrders
from serverless_local.stack import ttls
from serverless_local.template import TABLE_TYPES, table_definitions

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


def create_params(description: dict[str, Any]) -> dict[str, Any]:
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
class TableImage:
    """One table as a snapshot holds it: how to create it, its TTL setting, its items (export JSON)."""

    create: dict[str, Any]
    ttl: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    #: Its stream's records still within the stream's retention (journal entries, dynamodb_streams).
    stream: list[dict[str, Any]] = field(default_factory=list)


class DynamoDbService(Service):
    """The template's tables in the embedded moto DynamoDB, journaled under `dynamodb/`."""

    title: ClassVar[str] = "DynamoDB"
    resource_types: ClassVar[frozenset[str]] = frozenset(TABLE_TYPES)
    namespace: ClassVar[str | None] = "dynamodb"

    def __init__(self, context: ServiceContext) -> None:
        super().__init__(context)
        self.store = context.store("dynamodb")
        #: Serialises DynamoDB operations: moto's tables are plain dicts, and a journaled write
        #: must be read back before another write to the same item lands.
        self.lock = threading.RLock()
        self.recording = False
        self.snapshot_items = 0
        self.journal: JournalContents | None = None
        #: Whether the state read at start should be folded into a new snapshot.
        self.compaction_due = False
        self._compaction = threading.Lock()
        self._patches = Patches()
        #: Bumped by every change: the sorted order of a table is cached for one generation.
        self.generation = 0
        #: GSIs in order, moved item by item by every write (`indexes`).
        self.indexes = IndexOrders()
        #: Stream records read back at start, by table, put on the shards once the items are back.
        self._restored_streams: dict[str, list[dict[str, Any]]] = {}
        #: How many records each table's stream held after the last write journaled.
        self._stream_positions: dict[str, int] = {}
        self._loaders: dict[str, _ItemLoader] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Install the hooks, rebuild the tables from disk, create the template's missing ones."""
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        self.context.aws.on_action(DynamoHandler, self.lock, self._after_action)
        # Stream reads under the same lock: a record is read only once its write is journaled.
        self.context.aws.on_action(DynamoDBStreamsHandler, self.lock, _nothing)
        _install_read_hooks(self._patches, self)
        every = self.context.options.throttle_batch_writes
        if every:
            _install_throttling(self._patches, every)
            self.context.notes.append(
                f"1 in {every} BatchWriteItem requests leaves half its items unprocessed "
                "(--throttle-batch-writes)"
            )
        self.load()
        template = self.context.template
        tables = table_definitions(
            template.document, template.resolver.parameters, template.resolver.stack_name
        )
        self.context.notes.extend(self.ensure_tables(tables, ttls(template.document, template.resolver)))
        if self.compaction_due:  # once the server has answered: the first answer waits for none of it
            self.context.background.later.append(self._compact_reporting)

    def stop(self) -> None:
        """Write the snapshot the start left due, if the background never got to it (a server stopped
        within its first seconds would otherwise never compact); give moto its methods back; close the
        journal."""
        if self.compaction_due and self.recording:
            self._compact_reporting()
        with self._compaction:
            self._patches.restore()
            self.store.close()

    def report(self) -> str:
        """Tables and items."""
        with self.lock:
            tables = {name: len(table) for name, table in self.backend.tables.items()}
        return ", ".join(f"{name} ({count} items)" for name, count in sorted(tables.items()))

    @property
    def backend(self) -> Any:
        """The one DynamoDB backend every account and region sees."""
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT_ID][REGION]

    def client(self) -> Any:
        """A botocore client on the in-process mock (table operations)."""
        return self.context.aws.client("dynamodb")

    def item_count(self) -> int:
        """How many items all tables hold."""
        with self.lock:
            return sum(len(table) for table in self.backend.tables.values())

    # -- state -------------------------------------------------------------------------------------
    def load(self) -> None:
        """Rebuild the tables from the snapshot and the journal (before anything is served)."""
        with self.lock:
            recovered = self.recover(self.store)
            snapshot = recovered.snapshot
            images: dict[str, TableImage] = {}
            if snapshot is not None:
                for name, table in snapshot.manifest["tables"].items():
                    data = str(table["data"]).rsplit("/", 1)[-1].removesuffix(".json")
                    items = [line["Item"] for line in snapshot.read(data)]
                    stream = snapshot.read(table["stream"]) if table.get("stream") else []
                    images[name] = TableImage(table["create"], table.get("ttl"), items, stream)
            self._apply_image(images)
            self.snapshot_items = sum(len(image.items) for image in images.values())
            self.journal = recovered.journal
            for entry in self.journal.entries:
                self._replay(entry)
            for name, records in self._restored_streams.items():
                if name in self.backend.tables:
                    dynamodb_streams.restore(self.backend.tables[name], records)
            self._restored_streams.clear()
            self._stream_positions = {
                name: dynamodb_streams.stream_length(table) for name, table in self.backend.tables.items()
            }
            self._loaders.clear()  # they cache moto's partitions: valid for the replay alone
            self.compaction_due = recovered.compact
            self.generation += 1
            self.indexes.clear()  # replay wrote around the hooks: the orders are rebuilt on first use
            self.recording = True

    def ensure_tables(self, tables: dict[str, dict[str, Any]], ttl: dict[str, dict[str, Any]]) -> list[str]:
        """Create the template's tables that do not exist yet; notes on those whose keys differ."""
        notes = []
        with self.lock:
            for params in tables.values():
                name = params["TableName"]
                existing = self.backend.tables.get(name)
                if existing is None:
                    self.client().create_table(**params)
                    if name in ttl:
                        self.client().update_time_to_live(TableName=name, TimeToLiveSpecification=ttl[name])
                    dynamodb_streams.label_template_table(self.backend.get_table(name))
                elif existing.stream_shard is not None and "StreamSpecification" in params:
                    dynamodb_streams.label_template_table(existing)
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

    def compact(self) -> None:
        """Snapshot the current state; only capturing it holds up DynamoDB requests, not writing it."""
        with self._compaction:
            with self.lock:
                images = self.images()
                covers = self.store.rotate()
                self.compaction_due = False
            manifest: dict[str, Any] = {"format": "DYNAMODB_JSON", "tables": {}}
            data: dict[str, Any] = {}
            for number, (name, image) in enumerate(sorted(images.items())):
                manifest["tables"][name] = {"create": image.create, "ttl": image.ttl, "data": f"{number:04d}"}
                data[f"{number:04d}"] = ({"Item": item} for item in image.items)
                if image.stream:
                    manifest["tables"][name]["stream"] = f"{number:04d}-stream"
                    data[f"{number:04d}-stream"] = image.stream
            self.store.write_snapshot(manifest, data, covers)

    def compact_in_background(self) -> None:
        """Compact on a thread of its own, unless a compaction is already running."""
        if not self._compaction.locked():
            threading.Thread(target=self._compact_reporting, name="dynamodb-compaction", daemon=True).start()

    def _compact_reporting(self) -> None:
        try:
            self.compact()
        except (OSError, SnapshotError) as error:  # the journal still holds everything
            reason = error.strerror if isinstance(error, OSError) else error
            print(
                f"serverless-local: DynamoDB: no new snapshot ({reason}); the journal keeps every change",
                file=sys.stderr,
                flush=True,
            )

    # -- the journal hook ----------------------------------------------------------------------------
    def _after_action(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action.startswith(READ_PREFIXES):
            return
        self._move_index_entries(action, params)
        if not self.recording:
            return
        self.generation += 1
        self.store.append(self.changes(action, params) + self._stream_changes())
        if self.store.segment_bytes > COMPACT_AFTER_BYTES:
            self.compact_in_background()

    def _move_index_entries(self, action: str, params: dict[str, Any]) -> None:
        """Keep the GSI orders current: item writes move their items, any other write drops them."""
        if action in NOT_KEPT:
            return
        if action not in ITEM_WRITES:
            self.indexes.clear()
            return
        for name, key in _written_keys(self, action, params):
            table = self.backend.get_table(name)
            values = self._key_values(table, key)
            native = tuple(value.cast_value for value in values if value is not None)
            self.indexes.written(table, native, table.get_item(*values))

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
        if action in NOT_KEPT:
            return []
        if action in PARTIQL and all(s.lstrip().upper().startswith("SELECT") for s in _statements(params)):
            return []
        images = self.images()
        tables = {n: {"create": i.create, "ttl": i.ttl, "items": i.items} for n, i in images.items()}
        return [{"op": "image", "tables": tables}]

    def _stream_changes(self) -> list[dict[str, Any]]:
        """The stream records the write added (journaled with it), those that changed nothing dropped."""
        entries: list[dict[str, Any]] = []
        positions = self._stream_positions
        for name, table in self.backend.tables.items():
            length = dynamodb_streams.stream_length(table)
            seen = positions.get(name, 0)
            if length != seen:
                if length > seen:
                    records = dynamodb_streams.new_records(table, seen)
                    entries.extend(dynamodb_streams.entry(table, record) for record in records)
                    dynamodb_streams.trim(table)
                positions[name] = dynamodb_streams.stream_length(table)
        return entries

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

    # -- replay --------------------------------------------------------------------------------------
    def _image(self, table: Any) -> TableImage:
        description = table.describe(base_key="Table")["Table"]
        ttl = table.ttl if table.ttl.get("TimeToLiveStatus") == "ENABLED" else None
        return TableImage(
            create=create_params(description),
            ttl={"AttributeName": ttl["AttributeName"], "Enabled": True} if ttl else None,
            items=[to_export(item.to_json()["Attributes"]) for item in table.all_items()],
            stream=[
                dynamodb_streams.entry(table, record)
                for record in (table.stream_shard.items if table.stream_shard is not None else [])
            ],
        )

    def _apply_image(self, tables: dict[str, TableImage], *, replace_all: bool = False) -> None:
        if replace_all:
            self.backend.tables.clear()
        self._loaders.clear()
        for name, image in tables.items():
            self.backend.tables.pop(name, None)
            self.client().create_table(**image.create)
            if image.ttl:
                self.client().update_time_to_live(TableName=name, TimeToLiveSpecification=image.ttl)
            loader = self._loader(name)
            for item in image.items:
                loader.put(item)
            if image.stream:
                self._restored_streams[name] = list(image.stream)

    def _loader(self, table: str) -> _ItemLoader:
        """The loader of `table` for this replay (tables made or dropped since invalidate it)."""
        loader = self._loaders.get(table)
        if loader is None:
            loader = self._loaders[table] = _ItemLoader(self.backend.get_table(table))
        return loader

    def _replay(self, entry: dict[str, Any]) -> None:
        op = entry.get("op")
        try:
            if op == "put":
                self._loader(entry["table"]).put(entry["item"])
                return
            if op == "stream":  # a record of a stream: put back once every item is
                self._restored_streams.setdefault(entry["table"], []).append(entry)
                return
            self._loaders.clear()
            if op == "delete":
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


def _nothing(handler: Any, action: str, params: dict[str, Any]) -> None:
    """An action hook that only serialises (a stream read)."""


class _ItemLoader:
    """Puts items that were valid when they were written straight into one of moto's tables.

    moto's Item re-measures the whole item for each attribute it sets (quadratic, ~0.2 ms for a
    record) and DynamoType's constructor walks every value twice: fine per request, too slow for
    10,000 records at start-up. Items are built from their export JSON in one pass (binary values
    decoded from base64 as they go), the size check is skipped by filling moto's LimitedSizeDict with
    dict.update (which does not call its __setitem__), and each partition is looked up once by its
    raw value rather than by hashing a DynamoType (a Decimal for a number) for every item.
    """

    def __init__(self, table: Any) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        self.table = table
        self._types = (DynamoType, Item, LimitedSizeDict)
        self._partitions: dict[tuple[str, Any], Any] = {}

    def put(self, exported: dict[str, Any]) -> None:
        """Put one item (DynamoDB export JSON), replacing any with its key."""
        dynamo_type, item_type, limited = self._types
        table = self.table
        attributes = {name: _dynamo_type(dynamo_type, value) for name, value in exported.items()}
        item: Any = object.__new__(item_type)
        item.attrs = limited()
        dict.update(item.attrs, attributes)
        item.hash_key = attributes[table.hash_key_attr]
        if table.range_key_attr is None:
            item.range_key = None
            table.items[item.hash_key] = item
            return
        item.range_key = attributes[table.range_key_attr]
        raw = next(iter(exported[table.hash_key_attr].items()))
        partition = self._partitions.get(raw)
        if partition is None:
            partition = self._partitions[raw] = table.items[item.hash_key]
        partition[item.range_key] = item


def _dynamo_type(dynamo_type: type, value: dict[str, Any]) -> Any:
    """moto's DynamoType of one export-JSON value, built in one pass (see `_ItemLoader`)."""
    for kind, inner in value.items():
        typed: Any = object.__new__(dynamo_type)
        if kind == "M":
            inner = {name: _dynamo_type(dynamo_type, v) for name, v in inner.items()}
        elif kind == "L":
            inner = [_dynamo_type(dynamo_type, v) for v in inner]
        elif kind == "B":
            inner = base64.b64decode(inner)
        elif kind == "BS":
            inner = [base64.b64decode(v) for v in inner]
        typed.type = kind
        typed.value = inner
        return typed
    raise ValueError("an attribute value without a type")


def _statements(params: dict[str, Any]) -> Iterator[str]:
    if "Statement" in params:
        yield params["Statement"]
    for entry in params.get("Statements") or params.get("TransactStatements") or []:
        yield entry["Statement"]


def _written_keys(service: DynamoDbService, action: str, params: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(table, key) of every item a successful item write touched."""
    if action == "PutItem":
        yield params["TableName"], service.key_of(params["TableName"], params["Item"])
    elif action in ("UpdateItem", "DeleteItem"):
        yield params["TableName"], params["Key"]
    elif action == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    yield table, service.key_of(table, request["PutRequest"]["Item"])
                else:
                    yield table, request["DeleteRequest"]["Key"]
    elif action == "TransactWriteItems":
        for entry in params["TransactItems"]:
            if "Put" in entry:
                name = entry["Put"]["TableName"]
                yield name, service.key_of(name, entry["Put"]["Item"])
            for kind in ("Update", "Delete"):
                if kind in entry:
                    yield entry[kind]["TableName"], entry[kind]["Key"]


# -- reads in O(page), not O(table) ----------------------------------------------------------------------
_narrowed = threading.local()


def _native_key(item: Any) -> tuple[Any, ...]:
    if item.range_key is None:
        return (item.hash_key.cast_value,)
    return (item.hash_key.cast_value, item.range_key.cast_value)


def _partition_items(table: Any, partition: Any) -> Any:
    """The items of one of moto's `table.items` values (a dict by range key, or the item itself)."""
    return partition.values() if table.range_key_attr else (partition,)


def _install_read_hooks(patches: Patches, service: DynamoDbService) -> None:
    """Cache each table's sorted items per generation; narrow Query and Scan pages (see module doc)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table

    orders: weakref.WeakKeyDictionary[Any, tuple[int, list[Any], list[tuple[Any, ...]]]]
    orders = weakref.WeakKeyDictionary()

    def ordered(table: Any) -> tuple[list[Any], list[tuple[Any, ...]]]:
        cached = orders.get(table)
        if cached is None or cached[0] != service.generation:
            # moto's own order (its all_items sorts by key), with native keys: one cast_value an item
            # instead of several for each comparison.
            items = [item for part in table.items.values() for item in _partition_items(table, part)]
            keys = [_native_key(item) for item in items]
            order = sorted(range(len(items)), key=keys.__getitem__)
            cached = orders[table] = (service.generation, [items[i] for i in order], [keys[i] for i in order])
        return cached[1], cached[2]

    def all_items(table: Any) -> list[Any]:
        narrowed = getattr(_narrowed, "items", None)
        if narrowed is not None:
            return list(narrowed)
        return list(ordered(table)[0])

    def query(table: Any, *args: Any, **kwargs: Any) -> Any:
        """A Query on its window of the table's or the GSI's order (`indexes`); otherwise on
        the table's partition alone, or moto's own path (an LSI, a Query it does not cover)."""
        from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

        named = query_signature.bind(table, *args, **kwargs).arguments
        index_name = named.get("index_name")
        order = service.indexes.get(table, index_name)
        window = None
        # ConsistentRead on a GSI and the legacy QueryFilter: moto's own answer (an error, a filter)
        plain = not named.get("filter_kwargs") and not (index_name and named.get("consistent_read"))
        if order is not None and plain:
            window = order.window(named, size, RESULT_SIZE_LIMIT)
        if window is None and not index_name and named.get("hash_key") is not None:
            partition = table.items.get(named["hash_key"])
            if partition is None:
                window = []
            else:
                window = list(partition.values()) if table.range_key_attr else [partition]
        if window is None:
            return original_query(table, *args, **kwargs)
        copies = bool(named.get("projection_expressions"))
        return _with_items(window, original_query, table, *args, copies=copies, **kwargs)

    def scan(
        table: Any, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any
    ) -> Any:
        named = scan_signature.bind(table, filters, limit, exclusive_start_key, *args, **kwargs).arguments
        segments = named.get("segments", (None, None))
        if named.get("index_name") or exclusive_start_key is None or segments != (None, None):
            if named.get("index_name") or segments != (None, None):
                return original_scan(table, filters, limit, exclusive_start_key, *args, **kwargs)
            items: list[Any] = ordered(table)[0]
        else:
            items, keys = ordered(table)
            try:
                start_key = tuple(
                    DynamoType(exclusive_start_key[name]).cast_value
                    for name in (table.hash_key_attr, table.range_key_attr)
                    if name
                )
            except (KeyError, TypeError):
                return original_scan(table, filters, limit, exclusive_start_key, *args, **kwargs)
            items = items[bisect.bisect_left(keys, start_key) :]
        copies = bool(named.get("projection_expression"))  # moto's projection changes the items it is given
        return _with_items(
            items, original_scan, table, filters, limit, exclusive_start_key, *args, copies=copies, **kwargs
        )

    def size(item: Any) -> int:
        """An item's size, measured once per generation (a page measures each item twice).

        Kept on the item itself (moto's Item is unhashable); its copies do not carry it.
        """
        cached = item.__dict__.get("_local_size")
        if cached is None or cached[0] != service.generation:
            cached = item.__dict__["_local_size"] = (service.generation, original_size(item))
        return int(cached[1])

    patches.replace(Table, "all_items", all_items)
    original_query = patches.replace(Table, "query", query)
    query_signature = inspect.signature(original_query)
    original_scan = patches.replace(Table, "scan", scan)
    scan_signature = inspect.signature(original_scan)
    original_size = patches.replace(Item, "size", size)
    _install_result_conversion(patches)


def _install_throttling(patches: Patches, every: int) -> None:
    """Every `every`th BatchWriteItem writes the first half of its items and answers the rest as
    UnprocessedItems, which is what DynamoDB does when a table throttles."""
    from moto.dynamodb.responses import DynamoHandler

    count = [0]
    counting = threading.Lock()

    def batch_write_item(handler: Any) -> Any:
        with counting:
            count[0] += 1
            throttled = count[0] % every == 0
        if not throttled:
            return original(handler)
        requested = handler.body["RequestItems"]
        kept = {table: items[: (len(items) + 1) // 2] for table, items in requested.items()}
        held = {table: items[(len(items) + 1) // 2 :] for table, items in requested.items()}
        handler.body["RequestItems"] = kept
        try:
            result = original(handler)
        finally:
            handler.body["RequestItems"] = requested  # the journal hook reads every key asked for
        result.result["UnprocessedItems"] = {table: items for table, items in held.items() if items}
        return result

    original = patches.replace(DynamoHandler, "batch_write_item", batch_write_item)


def _install_result_conversion(patches: Patches) -> None:
    """moto's `dynamo_to_dict` with a fast path for the plain values and DynamoTypes of items."""
    from decimal import Decimal

    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    plain = (str, int, float, bool, type(None), Decimal, bytes)

    def to_dict(value: Any) -> Any:
        kind = type(value)
        if kind is DynamoType and value.type not in ("B", "BS"):
            return {value.type: to_dict(value.value)}
        if kind is dict or kind is LimitedSizeDict:
            return {name: to_dict(inner) for name, inner in value.items()}
        if kind is list:
            return [to_dict(inner) for inner in value]
        if kind in plain:
            return value
        return original(value)  # binary values, datetimes, models: moto's own rules

    original = patches.replace(responses, "dynamo_to_dict", to_dict)


class _Uncopied:
    """`copy` for moto's table module during a page without a projection: its results are only read
    (serialised into new dicts), so the deep copy of each item returned is skipped."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value


def _with_items(
    items: list[Any], call: Callable[..., Any], *args: Any, copies: bool = True, **kwargs: Any
) -> Any:
    """Run moto's `call` with `all_items()` answering `items` (the DynamoDB lock is held)."""
    from moto.dynamodb.models import table as table_module

    _narrowed.items = items
    if not copies:
        setattr(table_module, "copy", _Uncopied)  # noqa: B010 (moto's module global, under the lock)
    try:
        return call(*args, **kwargs)
    finally:
        _narrowed.items = None
        setattr(table_module, "copy", copy)  # noqa: B010
