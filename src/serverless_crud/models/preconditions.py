"""Preconditions of a write: what it requires of the stored version (If-Match, If-None-Match, or the
version a merge patch read). A record concept: the API parses them from headers, the use-cases
check them, storage turns them into condition expressions."""

from __future__ import annotations

from dataclasses import dataclass

#: `Expected.stored` of a row that has no version attribute.
MISSING_VERSION = 0


@dataclass(frozen=True)
class Expected:
    """What a write requires of the stored version (all given conditions must hold).

    `match`: If-Match's versions (an empty set matches nothing). `none_match`: If-None-Match's
    versions; `none_match_any`: If-None-Match: * (the write must fail when the record exists).
    `stored`: the exact version state a merge patch read (an int, or MISSING_VERSION).
    A row without a version reads as version 1, so 1 also matches a missing version attribute.
    """

    match: frozenset[int] | None = None
    none_match: frozenset[int] | None = None
    none_match_any: bool = False
    stored: int | None = None

    def allows(self, version: int) -> bool:
        """Whether a record at `version` meets the conditions (a merge patch checks what it read)."""
        matched = self.match is None or version in self.match
        none_matched = not self.none_match_any and (self.none_match is None or version not in self.none_match)
        return matched and none_matched


NO_CONDITION = Expected()
