"""Request helpers: JSON bodies under the API's rules, entity tags and preconditions, links."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from serverless_crud.api.problems import ApiProblem
from serverless_crud.api.request import Request
from serverless_crud.models import exact_json
from serverless_crud.models.keys import MAX_ID, plain_integer
from serverless_crud.models.preconditions import Expected

HTML = "text/html"
MERGE_PATCH_JSON = "application/merge-patch+json"
#: More entity tags than this in one header are not a real client's (DynamoDB's IN takes 100).
MAX_ENTITY_TAGS = 100


def header(event: Request, name: str) -> str | None:
    """A request header's value, whatever its case."""
    value: str | None = event.headers.get(name)
    return value


def media_type(event: Request) -> str:
    """The request's media type, without parameters, lower-cased."""
    return (header(event, "content-type") or "").split(";", 1)[0].strip().lower()


def body_bytes(event: Request) -> bytes:
    """The request body as the client sent it (API Gateway base64-encodes binary media types)."""
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ApiProblem(400, "the request body could not be decoded") from None


def json_body(event: Request, accepted: tuple[str, ...], max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, or an ApiProblem (413, 415 or 400) saying why not."""
    raw = body_bytes(event)
    if len(raw) > max_bytes:
        raise ApiProblem(413, f"the request body is {len(raw)} bytes; the limit is {max_bytes}")
    if media_type(event) not in accepted:
        raise ApiProblem(
            415,
            f"the request body must be {' or '.join(accepted)}",
            headers={"Accept-Patch" if MERGE_PATCH_JSON in accepted else "Accept-Post": ", ".join(accepted)},
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiProblem(400, f"the request body is not UTF-8 text (byte {error.start + 1})") from None
    try:
        body = exact_json.parse(text)
    except exact_json.MalformedJson as error:
        raise ApiProblem(400, f"the request body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiProblem(400, "the request body must be a JSON object")
    return body


def etag(version: int) -> str:
    """The strong entity tag of a record version."""
    return f'"{version}"'


@dataclass(frozen=True)
class EntityTags:
    """A parsed If-Match or If-None-Match: `*`, or the tags listed (opaque tags with quotes)."""

    any: bool
    strong: frozenset[str]
    weak: frozenset[str]
    #: Whether the value is a well-formed list of entity tags (RFC 9110 8.8.3), `*` aside.
    well_formed: bool = True

    def matches_weakly(self, *tags: str) -> bool:
        """Weak comparison (RFC 9110 8.8.3.2): GET's If-None-Match."""
        return self.any or any(tag in self.strong or tag in self.weak for tag in tags)

    def versions(self, *, weak: bool) -> frozenset[int]:
        """The record versions named (strong tags only unless `weak`); unusable tags name none."""
        tags = self.strong | self.weak if weak else self.strong
        found = (plain_integer(tag[1:-1], 1, MAX_ID) for tag in tags)
        return frozenset(version for version in found if version is not None)


def entity_tags(raw: str | None) -> EntityTags | None:
    """Parse an If-Match / If-None-Match value (None when the header is absent or empty)."""
    if raw is None or not raw.strip():
        return None
    pieces = [part.strip(" \t") for part in raw.split(",")]
    parts = [part for part in pieces if part]
    if len(parts) > MAX_ENTITY_TAGS:
        raise ApiProblem(400, f"a precondition header may list at most {MAX_ENTITY_TAGS} entity tags")
    strong = {p for p in parts if _quoted(p)}
    weak = {p[2:] for p in parts if p.startswith("W/") and _quoted(p[2:])}
    well_formed = all(_quoted(p) or (p.startswith("W/") and _quoted(p[2:])) for p in pieces)
    return EntityTags("*" in parts, frozenset(strong), frozenset(weak), well_formed)


def _quoted(tag: str) -> bool:
    return len(tag) >= 2 and tag[0] == tag[-1] == '"' and '"' not in tag[1:-1] and "," not in tag


def preconditions(event: Request, *, require_if_match: bool) -> Expected:
    """The write's If-Match / If-None-Match as conditions on the stored version.

    If-Match uses strong comparison (a weak or malformed tag never matches); If-None-Match weak
    comparison. With `require_if_match`, a write without an If-Match entity tag is 428.
    """
    if_match = entity_tags(header(event, "if-match"))
    if_none_match = entity_tags(header(event, "if-none-match"))
    if require_if_match and (if_match is None or if_match.any or not if_match.well_formed):
        raise ApiProblem(
            428, "this API requires If-Match with the record's ETag (read it with GET) on every change"
        )
    return Expected(
        match=None if if_match is None or if_match.any else if_match.versions(weak=False),
        none_match=None if if_none_match is None else if_none_match.versions(weak=True),
        none_match_any=if_none_match is not None and if_none_match.any,
    )


def location(event: Request, path: str) -> str:
    """`path` as the client sees it (with the stage or base path, if any)."""
    return f"{stage_prefix(event)}{path}"


def stage_prefix(event: Request) -> str:
    """What the client's URL has before the route's path: `/prod` for `/prod/records`, or ''."""
    seen = event.stage_path or event.path
    if event.path == "/":
        return seen[:-1] if seen.endswith("/") else seen
    return seen[: -len(event.path)] if seen.endswith(event.path) else ""


def _quality(accept: str, media_type: str) -> float:
    """The q-value `accept` gives `media_type`: that of its most specific matching range (RFC 9110
    12.5.1), 0 when none matches."""
    kind = media_type.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)
    for part in accept.split(","):
        range_, *params = (piece.strip() for piece in part.split(";"))
        range_ = range_.lower()
        specificity = (
            2 if range_ == media_type else 1 if range_ == f"{kind}/*" else 0 if range_ == "*/*" else -1
        )
        if specificity < best[0] or specificity < 0:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best = (specificity, quality)
    return best[1]


def accept_prefers(accept: str | None, wanted: str, *others: str) -> bool:
    """Whether an Accept header ranks `wanted` strictly above each of `others` (absent: no preference)."""
    if not accept:
        return False
    return _quality(accept, wanted) > max(_quality(accept, other) for other in others)


def record_location(event: Request, email: str, record_id: int) -> str:
    """The record's URL path as the client sees it (with the stage or base path, if any)."""
    return location(event, f"/records/{quote(email, safe='@+')}/{record_id}")
