"""How text is folded for search and sort: what is stored and what is asked for are normalised alike."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-cased, accents dropped (NFKD without combining marks), white space collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def words(query: str) -> list[str]:
    """The folded words of a search, each of which a match must contain. `+` separates words too:
    it is a form-encoded space, which API Gateway passes on undecoded."""
    return sorted(set(fold(query.replace("+", " ")).split()))
