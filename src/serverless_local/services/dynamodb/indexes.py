"""Global secondary indexes (and tables) kept in order, so a Query reads its page, not the table.

moto answers a Query on an index by testing every item of the table, sorting the matches with
`DynamoType` comparisons and walking them to the ExclusiveStartKey: O(table) per page (0.3 to 1.2 s
for a partition of 10,000). Here each partition of each GSI is a list of native sort keys in
moto's own order (moto's `_generate_attr_to_sort_by`: the index range key, then the table's keys,
so ties are ordered by the table keys), kept current item by item by the write hook (bisect; a
write moves one entry). A Query bisects to its key condition and ExclusiveStartKey and hands moto
only the window its page can reach (Limit + 1 items, or up to moto's 1 MB page): moto itself still
applies the key condition, Limit before the FilterExpression, the 1 MB limit, LastEvaluatedKey, the
index's projection and the ProjectionExpression. Sparse indexes fall out: an item without the
index keys has no entry.

A Query on the table itself works alike (moto sorts the whole partition on each one: ~100 ms for
10,000 items), on an order of the table's own keys.

Anything this does not cover is answered by moto's own path (`window` returns None): LSIs,
multi-attribute index keys, legacy QueryFilter, ConsistentRead (moto's error), a key condition or
start key of another type than the attribute definitions say (DynamoDB's validation error).
Items whose index key has another type than declared are not indexed (DynamoDB refuses such writes).
"""

from __future__ import annotations

import bisect
import gc
import weakref
from decimal import Decimal
from typing import Any

#: Key-condition operators the window bisects to (moto's names, expression and KeyConditions forms).
_OPERATORS = frozenset({"=", "EQ", "<", "LT", "<=", "LE", ">", "GT", ">=", "GE", "BETWEEN", "BEGINS_WITH"})


#: DynamoDB's largest item (moto enforces it too).
MAX_ITEM_BYTES = 400 * 1024


def _first(key: tuple[Any, ...]) -> Any:
    return key[0]


class IndexOrder:
    """One GSI of one table, or the table itself: its partitions, each a sorted list of sort keys
    and one of the items."""

    def __init__(self, table: Any, index: Any | None) -> None:
        schema = table.schema if index is None else index.schema
        hashes = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"]
        self.supported = len(hashes) == 1 and len(ranges) <= 1
        self.hash_name = hashes[0] if hashes else ""
        self.range_name: str | None = ranges[0] if ranges else None
        range_attrs: list[str | None]
        if index is None:  # the table itself: moto orders a partition by its range key
            self.supported = self.supported and self.range_name is not None
            hash_attrs, range_attrs = hashes, [self.range_name]
        elif ranges:
            hash_attrs, range_attrs = [*hashes, table.hash_key_attr], [ranges[0], table.range_key_attr]
        else:  # moto orders a GSI without a range key by the table's range (or hash) key
            hash_attrs = [*hashes, table.hash_key_attr]
            range_attrs = [table.range_key_attr or table.hash_key_attr, table.range_key_attr]
        #: moto's sort attributes after the partition's hash key (constant within a partition).
        self.sort_attrs: list[str] = table._generate_attr_to_sort_by(hash_attrs, range_attrs)[1:]
        self.types = {d["AttributeName"]: d["AttributeType"] for d in table.attr}
        self.partitions: dict[Any, tuple[list[tuple[Any, ...]], list[Any]]] = {}
        #: table key (native) -> (partition, sort key): where an item's entry is, to move it.
        self.entries: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...]]] = {}
        if self.supported:
            self._build(table)

    def _build(self, table: Any) -> None:
        """Every entry, sorted once (inserting one by one would move each list n times), without
        the garbage collector: its passes over moto's items would triple the time (~55 ms for
        10,000 items)."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            entries = []
            for item in _items(table):
                entry = self._entry(item)
                if entry is not None:
                    entries.append((entry, _table_key(item), item))
            entries.sort(key=_first)  # a sort key holds the table's keys: never a tie to the item
            for entry, table_key, item in entries:
                keys, items = self.partitions.setdefault(entry[0], ([], []))
                keys.append(entry[1])
                items.append(item)
                self.entries[table_key] = entry
        finally:
            if collecting:
                gc.enable()

    def _typed(self, name: str, value: Any) -> bool:
        declared = self.types.get(name)
        return value is not None and (declared is None or value.type == declared)

    def _entry(self, item: Any) -> tuple[Any, tuple[Any, ...]] | None:
        attrs = item.attrs
        hash_value = attrs.get(self.hash_name)
        if not self._typed(self.hash_name, hash_value):
            return None
        if self.range_name is not None and not self._typed(self.range_name, attrs.get(self.range_name)):
            return None
        try:
            return _native(hash_value), tuple([_native(attrs[name]) for name in self.sort_attrs])
        except KeyError:
            return None

    def put(self, table_key: tuple[Any, ...], item: Any | None) -> None:
        """The item with this table key is now `item` (None: deleted): move its entry."""
        old = self.entries.pop(table_key, None)
        if old is not None:
            keys, items = self.partitions[old[0]]
            at = bisect.bisect_left(keys, old[1])
            del keys[at], items[at]
            if not keys:
                del self.partitions[old[0]]
        entry = None if item is None else self._entry(item)
        if entry is not None:
            keys, items = self.partitions.setdefault(entry[0], ([], []))
            at = bisect.bisect_left(keys, entry[1])
            keys.insert(at, entry[1])
            items.insert(at, item)
            self.entries[table_key] = entry

    def window(self, query: dict[str, Any], size: Any, size_limit: int) -> list[Any] | None:
        """The items moto's Query (arguments by name) can reach, in index order; None: not covered."""
        hash_conditions = query.get("hash_key_conditions") or []
        range_conditions = query.get("range_key_conditions") or []
        if len(hash_conditions) != 1 or hash_conditions[0][0] != self.hash_name or len(range_conditions) > 1:
            return None
        hash_value = hash_conditions[0][1]
        if not self._typed(self.hash_name, hash_value):
            return None
        keys, items = self.partitions.get(hash_value.cast_value, ([], []))
        low, high = 0, len(keys)  # the items the key condition matches
        if range_conditions:
            bounds = self._range(keys, range_conditions[0])
            if bounds is None:
                return None
            low, high = bounds
        start = query.get("exclusive_start_key")
        forward = query.get("scan_index_forward") is not False
        begin, end = 0, len(keys)  # the items moto walks, after the start key
        if start:
            bounds = self._after(keys, hash_value, start, forward)
            if bounds is None:
                return None
            begin, end = bounds
        if forward:
            reach, beyond = range(max(begin, low), min(end, high)), range(max(begin, high), end)
        else:
            reach = range(min(end, high) - 1, max(begin, low) - 1, -1)
            beyond = range(min(end, low) - 1, begin - 1, -1)
        limit = query.get("limit")
        window, total = [], 0
        for at in reach:  # moto needs the item after a full page to say LastEvaluatedKey
            window.append(items[at])
            total += size(items[at])
            if (limit is not None and len(window) > limit) or total > size_limit:
                return window
        # moto walks on past the key condition's last match: the next item still ends a full page
        # with a LastEvaluatedKey, and one that would overflow the page size does too.
        for at in beyond:
            if (limit is not None and len(window) == limit) or total + size(items[at]) > size_limit:
                window.append(items[at])
                break
            if total + MAX_ITEM_BYTES <= size_limit:
                break  # no later item can overflow the page
        return window

    def _range(
        self, keys: list[tuple[Any, ...]], condition: tuple[str, str, list[Any]]
    ) -> tuple[int, int] | None:
        name, operator, values = condition
        operator = operator.upper()
        if name != self.range_name or operator not in _OPERATORS:
            return None
        if not values or not all(self._typed(name, value) for value in values):
            return None
        cast = [value.cast_value for value in values]
        left = bisect.bisect_left(keys, cast[0], key=_first)
        right = bisect.bisect_right(keys, cast[-1], key=_first)
        if operator in ("=", "EQ"):
            return left, right
        if operator in ("<", "LT"):
            return 0, left
        if operator in ("<=", "LE"):
            return 0, right
        if operator in (">", "GT"):
            return right, len(keys)
        if operator in (">=", "GE"):
            return left, len(keys)
        if operator == "BETWEEN":
            return (left, max(left, right)) if len(cast) == 2 else None
        prefix = cast[0]
        if not isinstance(prefix, str | bytes):
            return None  # begins_with on a number: DynamoDB's (and moto's) error
        # Values with the prefix follow it contiguously: the first that lacks it ends them.
        end = bisect.bisect_left(keys, True, lo=left, key=lambda key: not key[0].startswith(prefix))
        return left, end

    def _after(
        self, keys: list[tuple[Any, ...]], hash_value: Any, start: dict[str, Any], forward: bool
    ) -> tuple[int, int] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        names = [self.hash_name, *self.sort_attrs]
        try:
            values = [DynamoType(start[name]) for name in names]
        except (KeyError, TypeError, AttributeError):
            return None
        if not all(self._typed(name, value) for name, value in zip(names, values, strict=True)):
            return None
        start_hash, start_key = values[0].cast_value, tuple(value.cast_value for value in values[1:])
        if start_hash != hash_value.cast_value:
            # moto compares the partition first: a start key in another one skips all or nothing
            skips_all = (start_hash > hash_value.cast_value) == forward
            return (0, 0) if skips_all else (0, len(keys))
        if forward:
            return bisect.bisect_right(keys, start_key), len(keys)
        return 0, bisect.bisect_left(keys, start_key)


class IndexOrders:
    """Every table's orders (its own, "", and its GSIs'), each built on its first Query and moved
    by each item write."""

    def __init__(self) -> None:
        self._tables: weakref.WeakKeyDictionary[Any, dict[str, IndexOrder]] = weakref.WeakKeyDictionary()

    def get(self, table: Any, index_name: str | None) -> IndexOrder | None:
        """The order of `table`'s GSI `index_name` (None: of the table), or None if the fast path
        does not cover it."""
        orders = self._tables.get(table)
        if orders is None:
            orders = self._tables[table] = {}
        order = orders.get(index_name or "")
        if order is None:
            index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
            if index_name and index is None:
                return None  # an LSI or an unknown index: moto's own path (and its error)
            order = orders[index_name or ""] = IndexOrder(table, index)
        return order if order.supported else None

    def written(self, table: Any, table_key: tuple[Any, ...], item: Any | None) -> None:
        """An item write landed (`item` is what the key holds now, None if nothing)."""
        for order in (self._tables.get(table) or {}).values():
            if order.supported:
                order.put(table_key, item)

    def clear(self) -> None:
        """Forget every order (a change not made item by item: rebuilt on the next index Query)."""
        self._tables = weakref.WeakKeyDictionary()


def _native(value: Any) -> Any:
    """`DynamoType.cast_value` of a key value (S, N or B), without its checks for other types."""
    return Decimal(value.value) if value.type == "N" else value.value


def _table_key(item: Any) -> tuple[Any, ...]:
    if item.range_key is None:
        return (_native(item.hash_key),)
    return (_native(item.hash_key), _native(item.range_key))


def _items(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())
