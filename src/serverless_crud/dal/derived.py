"""The derived attributes every write stores beside a record (see docs/access-patterns.md), all of
them read from the field declarations (models/fields.py):

- `_text`: the folded words of every searchable field (`q` filters on it); a "digits" field adds
  its digits alone, as a phone number is typed;
- `_tags`: the folded items of the tag-filter field (`tag` filters on it);
- `_<sort>` of every sortable field but the key: its value as text whose order is the field's order,
  then the key (the owner's `by_<sort>` and everyone's `all_by_<sort>` indexes are keyed on it);
- `_shard`: which write shard of the cross-owner indexes holds the record.

The same folding applies to the query's words, so that what is stored and what is asked for are
normalised alike.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from typing import Any

from serverless_crud.models.fields import FieldSpec, filtered_by, searched, sortable
from serverless_crud.models.text import fold

SHARDS = 4
#: Separates a sort key's parts: below every character of a text, so "ab" sorts before "ab c".
SEPARATOR = "\x00"
#: A text sorts by its first characters (an index key is at most 1,024 bytes).
TEXT_PREFIX = 100
TEXT, TAGS, SHARD = "_text", "_tags", "_shard"


@cache
def sort_attributes() -> dict[str, str]:
    """The derived attribute of each sortable field but the sort key (which sorts on itself)."""
    return {f.name: f.sort_attribute for f in sortable() if f.key != "sort"}


@cache
def sources() -> dict[str, tuple[str, ...]]:
    """The derived attributes (none of them a record field) and the fields each is derived from."""
    return {
        TEXT: tuple(f.name for f in searched()),
        TAGS: (filtered_by("tag").name,),
        **{attribute: (name,) for name, attribute in sort_attributes().items()},
        SHARD: (),
    }


@cache
def derived_names() -> frozenset[str]:
    """Every derived attribute's name."""
    return frozenset(sources())


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def tags_of(record: dict[str, Any]) -> list[str]:
    """The record's tags, folded."""
    return [fold(t) for t in _texts(record.get(filtered_by("tag").name))]


def text_of(record: dict[str, Any]) -> str:
    """What `q` searches in a record: each searchable field's folded text, one per line."""
    parts: list[str] = []
    for spec in searched():
        texts = _texts(record.get(spec.name))
        parts.extend(texts)
        if spec.search == "digits":
            parts.extend("".join(c for c in text if c.isdigit()) for text in texts)
    return "\n".join(folded for folded in map(fold, parts) if folded)


def _suffix(record: dict[str, Any]) -> str:
    return f"{SEPARATOR}{int(record['id']):016d}{SEPARATOR}{record['email']}"


def amount_key(amount: object) -> str:
    """A decimal as text whose byte order is numeric order; no amount sorts after every amount.

    Sign class (1 negative, 2 zero, 3 positive, 4 none), then for non-zero numbers the exponent
    biased to 000-255 and the significant digits; a negative number inverts both (9 - digit) and
    ends in `~`, so that -1.23 (more digits) sorts before -1.2.
    """
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        return "4"
    number = Decimal(amount)
    if not number.is_finite():
        return "4"
    if number == 0:
        return "2"
    sign, digit_tuple, _ = number.as_tuple()
    digits = "".join(map(str, digit_tuple)).strip("0")
    exponent = number.adjusted() + 130
    if not sign:
        return f"3{exponent:03d}{digits}"
    inverted = "".join(str(9 - int(d)) for d in digits)
    return f"1{255 - exponent:03d}{inverted}~"


def sort_key(spec: FieldSpec, value: object) -> str:
    """A field's value as text whose byte order is the field's order (before the record's key):
    numbers by `amount_key`, timestamps as written (RFC 3339 sorts as text), other text folded."""
    if spec.kind in ("number", "integer"):
        return amount_key(value)
    if not isinstance(value, str):
        return ""
    return value if spec.format == "date-time" else fold(value)[:TEXT_PREFIX]


def shard(email: str, record_id: int) -> str:
    """Which of the SHARDS partitions of the cross-owner indexes holds the record."""
    return str(zlib.crc32(f"{email}/{record_id}".encode("utf-8", "surrogatepass")) % SHARDS)


def derived(record: dict[str, Any], given: Iterable[str] | None = None) -> dict[str, Any]:
    """The derived attributes of `record` (keyed by field name, keys included). With `given`, only
    those whose source fields are all among `given` (an update that sets some fields)."""
    present = set(given or ()) | {"email", "id"}
    suffix = _suffix(record)
    values: dict[str, Any] = {TEXT: text_of(record), TAGS: tags_of(record)}
    for spec in sortable():
        if spec.key != "sort":
            values[spec.sort_attribute] = sort_key(spec, record.get(spec.name)) + suffix
    values[SHARD] = shard(str(record["email"]), int(record["id"]))
    if given is None:
        return values  # a whole record: a missing field is an empty one
    return {k: v for k, v in values.items() if set(sources()[k]) <= present}


def matches(record: dict[str, Any], query_words: list[str], tags: list[str], active: bool | None) -> bool:
    """Whether a stored record matches the search, computed from its fields (the same folding the
    filter expression relies on: an item without derived attributes is decided here)."""
    flag = filtered_by("flag").name
    if active is not None and (record.get(flag) is not False) != active:
        return False
    text = text_of(record)
    own_tags = set(tags_of(record))
    return all(w in text for w in query_words) and all(t in own_tags for t in tags)
