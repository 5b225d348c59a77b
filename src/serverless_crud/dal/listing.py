"""Listings and searches: the access patterns of docs/access-patterns.md, as DynamoDB requests.

A listing reads one stream (a Query on the table or an owner's index, or a Scan) or, across owners,
the SHARDS streams of a sharded index merged in order. Each stream is read until the page is full,
the stream ends or the read budget is spent; an item lacking the derived attributes passes the
filter expression and is decided by `derived.matches`, so nothing is hidden for lacking them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from serverless_crud.dal import cursor as cursors
from serverless_crud.dal import derived
from serverless_crud.dal.attributes import Item, deserialise
from serverless_crud.dal.expressions import Expression
from serverless_crud.errors import InvalidCursor, InvalidParameter
from serverless_crud.models.fields import field as record_field
from serverless_crud.models.fields import filtered_by
from serverless_crud.models.listing import ListQuery

#: The operations a listing sends (the function's role allows them, and the item operations).
QUERY, SCAN = "query", "scan"
#: DynamoDB reads at most 1 MB per request anyway; beyond this a larger Limit buys nothing.
MAX_CHUNK = 1000


@dataclass(frozen=True)
class Table:
    """What a listing needs of the table and the function's configuration."""

    call: Callable[..., dict[str, Any]]
    name: str
    partition_key: str
    sort_key: str
    secret: bytes
    indexes: bool
    budget: int


@dataclass(frozen=True)
class Listed:
    """A page of raw items, the next page's cursor, and whether the read budget stopped it short."""

    items: list[Item]
    next_cursor: str | None
    stopped_early: bool


@dataclass
class _Stream:
    operation: str
    params: dict[str, Any]
    #: The attributes of an ExclusiveStartKey (the table's keys, and the index's).
    key_attributes: tuple[str, ...]
    #: The attribute the stream is ordered by (None: a Scan, unordered).
    order: str | None
    start: Item | None = None
    done: bool = False
    items: list[Item] = field(default_factory=list)
    last_key: Item | None = None


def list_items(table: Table, query: ListQuery, accept: Callable[[Item], bool]) -> Listed:
    """One page of `query`; `accept` decides items the filter expression let through unchecked."""
    streams = _streams(table, query)
    if query.cursor:
        _resume(streams, cursors.decode_cursor(table.secret, query.scope(), query.cursor))
    budget = max(table.budget // len(streams), query.limit)
    for stream in streams:
        if not stream.done:
            _read(table, stream, query, budget, accept)
    merged = _merge(streams, query)
    for index, stream in enumerate(streams):
        taken = [item for source, item in merged if source == index]
        if len(taken) == len(stream.items):
            stream.start, stream.done = stream.last_key, stream.last_key is None
        elif taken:
            stream.start = {a: taken[-1][a] for a in stream.key_attributes}
    pending = [s for s in streams if not s.done]
    state = {"s": [None if s.done else {"k": s.start} for s in streams]}
    page = [item for _, item in merged]
    return Listed(
        items=page,
        next_cursor=cursors.encode_cursor(table.secret, query.scope(), state) if pending else None,
        stopped_early=bool(pending) and len(page) < query.limit,
    )


def _streams(table: Table, query: ListQuery) -> list[_Stream]:
    table_keys = (table.partition_key, table.sort_key)
    sort = record_field(query.sort)
    if not table.indexes and (sort.key != "sort" or (query.partition is None and query.sorted_explicitly)):
        raise InvalidParameter(
            f"sort={'-' if query.descending else ''}{query.sort} needs the table's search indexes, "
            "which this table does not have (see docs/access-patterns.md)"
        )
    expression = Expression()
    filter_expression = _filter(expression, query)
    base: dict[str, Any] = {"TableName": table.name}
    order_attribute = table.sort_key if sort.key == "sort" else sort.sort_attribute
    conditions: list[str | None]
    order: str | None
    if query.partition is None and not (table.indexes and query.sorted_explicitly):
        # Everyone's records in no particular order: a Scan shows every row, derived attributes or not.
        operation, key_attributes, order, conditions = SCAN, table_keys, None, [None]
    elif query.partition is None:
        base["IndexName"] = sort.sharded_index
        shard = expression.name(derived.SHARD)
        conditions = [f"{shard} = {expression.value(str(s))}" for s in range(derived.SHARDS)]
        operation, order = QUERY, order_attribute
        key_attributes = (*table_keys, derived.SHARD, *((order,) if order != table.sort_key else ()))
    else:
        if sort.key != "sort":
            base["IndexName"] = sort.owner_index
        conditions = [f"{expression.name(table.partition_key)} = {expression.value(query.partition)}"]
        operation, order = QUERY, order_attribute
        key_attributes = (*table_keys, *((order,) if order != table.sort_key else ()))
    if operation == QUERY and query.descending:
        base["ScanIndexForward"] = False  # (ascending is DynamoDB's default: not sent)
    if filter_expression:
        base["FilterExpression"] = filter_expression
    base.update(expression.params())
    return [
        _Stream(
            operation,
            {**base, **({"KeyConditionExpression": c} if c else {})},
            key_attributes,
            order,
        )
        for c in conditions
    ]


def _filter(expression: Expression, query: ListQuery) -> str:
    parts = []
    if query.words or query.tags:
        text = expression.name(derived.TEXT)
        conditions = [f"contains({text}, {expression.value(w)})" for w in query.words]
        if query.tags:
            tags = expression.name(derived.TAGS)
            conditions += [f"contains({tags}, {expression.value(t)})" for t in query.tags]
        # An item written before the derived attributes existed passes, and is checked in the function.
        parts.append(f"(attribute_not_exists({text}) OR ({' AND '.join(conditions)}))")
    if query.active is not None:
        active = expression.name(filtered_by("flag").name)
        if query.active:
            parts.append(f"(attribute_not_exists({active}) OR {active} <> {expression.value(False)})")
        else:
            parts.append(f"{active} = {expression.value(False)}")
    return " AND ".join(parts)


def _resume(streams: list[_Stream], state: dict[str, Any]) -> None:
    positions = state.get("s")
    if not isinstance(positions, list) or len(positions) != len(streams):
        raise InvalidCursor("the cursor belongs to another listing")
    for stream, position in zip(streams, positions, strict=True):
        if position is None:
            stream.done = True
        elif isinstance(position, dict) and (position.get("k") is None or isinstance(position["k"], dict)):
            stream.start = position["k"]
        else:
            raise InvalidCursor("the cursor belongs to another listing")


def _read(
    table: Table, stream: _Stream, query: ListQuery, budget: int, accept: Callable[[Item], bool]
) -> None:
    """Read `stream` from its start until it has a page of matches, ends or spends `budget` items."""
    key, evaluated, chunk = stream.start, 0, 0
    while True:
        wanted = query.limit - len(stream.items)
        chunk = _chunk(wanted, len(stream.items), evaluated, chunk) if query.filtered else wanted
        chunk = min(chunk, budget - evaluated)
        if chunk <= 0:
            break
        params = {**stream.params, "Limit": chunk, **({"ExclusiveStartKey": key} if key else {})}
        response = table.call(stream.operation, **params)
        evaluated += int(response.get("ScannedCount", 0))
        found = response.get("Items", [])
        stream.items.extend(i for i in found if accept(i)) if query.filtered else stream.items.extend(found)
        key = response.get("LastEvaluatedKey")
        if key is None or len(stream.items) >= query.limit:
            break
    stream.last_key = key
    if len(stream.items) > query.limit:
        # Matches read beyond the page stay unread: the stream resumes after the last one kept.
        del stream.items[query.limit :]
        stream.last_key = {a: stream.items[-1][a] for a in stream.key_attributes}


def _chunk(wanted: int, matched: int, evaluated: int, previous: int) -> int:
    """How many items a filtered request evaluates: at first twice what is wanted (so a dense match
    returns at most 2x the page), then as many as the matches seen so far say should hold the rest,
    growing at most fourfold a request (a sparse match takes a few larger requests instead of many
    small ones, and a guess from few matches cannot overshoot by much)."""
    first = 2 * wanted
    if not evaluated:
        return first
    density = max(matched / evaluated, 1 / MAX_CHUNK)
    return min(max(first, math.ceil(wanted / density)), 4 * previous, MAX_CHUNK)


def _order_key(stream: _Stream, item: Item) -> tuple[Any, ...]:
    """Where `item` (or a LastEvaluatedKey) falls in the stream's order; the table key breaks ties."""
    return tuple(_plain(item.get(a)) for a in (stream.order or "", *stream.key_attributes[:2]))


def _plain(value: dict[str, Any] | None) -> Any:
    if value is None:
        return ""
    plain = deserialise(value)
    return plain if isinstance(plain, Decimal) else str(plain)


def _merge(streams: list[_Stream], query: ListQuery) -> list[tuple[int, Item]]:
    """The page (stream index, item): the streams' items in order, up to where every unfinished
    stream has been read, so that no unread item could come before one returned."""
    if len(streams) == 1:
        return [(0, item) for item in streams[0].items[: query.limit]]
    frontiers = [_order_key(s, s.last_key) for s in streams if not s.done and s.last_key is not None]
    keyed = [(_order_key(s, item), index, item) for index, s in enumerate(streams) for item in s.items]
    if frontiers:
        cutoff = max(frontiers) if query.descending else min(frontiers)
        keyed = [k for k in keyed if (k[0] >= cutoff if query.descending else k[0] <= cutoff)]
    keyed.sort(key=lambda k: k[0], reverse=query.descending)
    return [(index, item) for _, index, item in keyed[: query.limit]]
