"""The query parameters of `GET /records` as the typed ListQuery the use-case takes, or
InvalidParameter naming the one at fault. The sorts are the sortable fields of the record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from serverless_crud.errors import InvalidParameter
from serverless_crud.models.fields import sortable
from serverless_crud.models.keys import plain_integer
from serverless_crud.models.listing import ListQuery
from serverless_crud.models.text import fold, words

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200
MAX_WORDS = 10
MAX_TAGS = 10
MAX_TAG_LENGTH = 50
#: Every parameter the listing takes; `tag` alone may repeat.
PARAMETERS = ("email", "q", "tag", "active", "sort", "limit", "cursor")


def sorts() -> tuple[str, ...]:
    """The orders a listing can have (`sort`, `-` for descending)."""
    return tuple(f.name for f in sortable())


def parse_limit(raw: str | None) -> int:
    """The page size from a query string: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent."""
    if raw is None:
        return DEFAULT_LIMIT
    value = plain_integer(raw, 1, MAX_LIMIT)
    if value is None:
        raise InvalidParameter(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return value


def _single(parameters: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = parameters.get(name) or []
    if len(values) > 1:
        raise InvalidParameter(f"{name} may be given once")
    return values[0] if values else None


def parse_listing(parameters: Mapping[str, Sequence[str]]) -> ListQuery:
    """The listing the parameters ask for (`email`: the partition asked for, unchecked); unknown
    parameters and bad values are InvalidParameter."""
    if unknown := sorted(set(parameters) - set(PARAMETERS)):
        raise InvalidParameter(
            f"{unknown[0]} is not a parameter of this listing (use {', '.join(PARAMETERS)})"
        )
    email = _single(parameters, "email")
    if email == "":
        raise InvalidParameter("email must not be empty; leave it out to list every record")
    text = _single(parameters, "q") or ""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidParameter(f"q must be at most {MAX_QUERY_LENGTH} characters")
    query_words = words(text)
    if len(query_words) > MAX_WORDS:
        raise InvalidParameter(f"q may have at most {MAX_WORDS} words")
    raw_tags = parameters.get("tag") or []
    if len(raw_tags) > MAX_TAGS:
        raise InvalidParameter(f"tag may be given at most {MAX_TAGS} times")
    if any(not fold(tag) or len(tag) > MAX_TAG_LENGTH for tag in raw_tags):
        raise InvalidParameter(f"tag must be 1 to {MAX_TAG_LENGTH} characters")
    active_text = _single(parameters, "active")
    if active_text not in (None, "true", "false"):
        raise InvalidParameter("active must be true or false")
    sort_text = _single(parameters, "sort")
    field = (sort_text or "id").removeprefix("-")
    if field not in sorts():
        choices = ", ".join(f"{s}, -{s}" for s in sorts())
        raise InvalidParameter(f"sort must be one of {choices}")
    return ListQuery(
        partition=email,
        limit=parse_limit(_single(parameters, "limit")),
        cursor=_single(parameters, "cursor") or None,
        words=tuple(query_words),
        tags=tuple(sorted({fold(tag) for tag in raw_tags})),
        active=None if active_text is None else active_text == "true",
        sort=field,
        descending=(sort_text or "").startswith("-"),
        sorted_explicitly=sort_text is not None,
    )
