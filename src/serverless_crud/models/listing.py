"""What a listing asks for (`ListQuery`) and what it answers (`Page`): the typed query the use-cases
take and storage runs, whatever the request looked like."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: A record as storage hands it over: stored values keyed by field name.
Record = dict[str, Any]


@dataclass(frozen=True)
class ListQuery:
    """What a listing asks for: whose records, which of them, in which order, how many."""

    partition: str | None
    limit: int
    cursor: str | None = None
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    active: bool | None = None
    sort: str = "id"
    descending: bool = False
    #: Whether `sort` was asked for (the default listing across owners may be a Scan).
    sorted_explicitly: bool = False

    @property
    def filtered(self) -> bool:
        """Whether a filter expression decides which items are returned."""
        return bool(self.words or self.tags) or self.active is not None

    def scope(self) -> str:
        """The listing's identity (everything but the page size): a cursor is valid for it only."""
        identity = [self.partition, self.words, self.tags, self.active, self.sort, self.descending]
        return "l:" + json.dumps(identity, separators=(",", ":"))


@dataclass(frozen=True)
class Page:
    """One page of a listing and the signed cursor of the next."""

    items: list[Record]
    next_cursor: str | None
    #: The read budget ran out before the page was full (`next_cursor` reads on).
    stopped_early: bool = False
