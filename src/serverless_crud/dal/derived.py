"""The derived attributes every write stores beside a record (see docs/access-patterns.md).

Search filters on `_text` and `_tags`, sorted listings read GSIs keyed on `_name`, `_updated` and
`_amount`, listings across owners read GSIs partitioned on `_shard`. The same functions fold the
query's words, so that what is stored and what is asked for are normalised alike.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

SHARDS = 4
#: Separates a sort key's parts: below every character of a name, so "ab" sorts before "ab c".
SEPARATOR = "\x00"
#: A name sorts by its first characters (an index key is at most 1,024 bytes).
NAME_PREFIX = 100
#: The attributes (none of them a record field) and the fields each is derived from.
SOURCES: dict[str, tuple[str, ...]] = {
    "_text": ("name", "notes", "phone", "tags"),
    "_tags": ("tags",),
    "_name": ("name",),
    "_updated": ("updated_at",),
    "_amount": ("amount",),
    "_shard": (),
}
DERIVED = frozenset(SOURCES)
#: The sort field of each sortable order, and the attribute its indexes are keyed on.
SORT_ATTRIBUTES = {"name": "_name", "updated_at": "_updated", "amount": "_amount"}


def fold(text: str) -> str:
    """Lower-cased, accents dropped (NFKD without combining marks), white space collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def words(query: str) -> list[str]:
    """The folded words of a search, each of which a match must contain. `+` separates words too:
    it is a form-encoded space, which API Gateway passes on undecoded."""
    return sorted(set(fold(query.replace("+", " ")).split()))


def _tags(record: dict[str, Any]) -> list[str]:
    tags = record.get("tags")
    return [fold(t) for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _text_of(record: dict[str, Any]) -> str:
    parts = [record.get(f) for f in ("name", "notes", "phone")]
    phone = record.get("phone")
    if isinstance(phone, str):
        parts.append("".join(c for c in phone if c.isdigit()))
    parts.extend(_tags(record))
    return "\n".join(fold(p) for p in parts if isinstance(p, str) and p)


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


def shard(email: str, record_id: int) -> str:
    """Which of the SHARDS partitions of the cross-owner indexes holds the record."""
    return str(zlib.crc32(f"{email}/{record_id}".encode("utf-8", "surrogatepass")) % SHARDS)


def derived(record: dict[str, Any], given: Iterable[str] | None = None) -> dict[str, Any]:
    """The derived attributes of `record` (keyed by field name, keys included). With `given`, only
    those whose source fields are all among `given` (an update that sets some fields)."""
    present = set(given or ()) | {"email", "id"}
    values: dict[str, Any] = {
        "_text": _text_of(record),
        "_tags": _tags(record),
        "_name": fold(record["name"])[:NAME_PREFIX] if isinstance(record.get("name"), str) else "",
        "_updated": str(record.get("updated_at") or ""),
        "_amount": amount_key(record.get("amount")),
        "_shard": shard(str(record["email"]), int(record["id"])),
    }
    for attribute in ("_name", "_updated", "_amount"):
        values[attribute] += _suffix(record)
    if given is None:
        return values  # a whole record: a missing field is an empty one
    return {k: v for k, v in values.items() if set(SOURCES[k]) <= present}


def matches(record: dict[str, Any], query_words: list[str], tags: list[str], active: bool | None) -> bool:
    """Whether a stored record matches the search, computed from its fields (the same folding the
    filter expression relies on: an item without derived attributes is decided here)."""
    if active is not None and (record.get("active") is not False) != active:
        return False
    text = _text_of(record)
    own_tags = set(_tags(record))
    return all(w in text for w in query_words) and all(t in own_tags for t in tags)
