"""Serving the web UI's files from package data (loaded on the first UI request: `api.ui` holds the
routes and hands each request's event here, so an API-only cold start never compiles this module).

Files are read from `serverless_crud/ui/static/` on their first request and kept for the life of the
instance (nothing is read at import time, so the UI costs the API's cold start nothing). Each file
gets a strong ETag from its content (`If-None-Match` → 304), a Cache-Control by kind, and a gzip
variant compressed once and sent base64-encoded when the client accepts gzip (API Gateway needs
`binaryMediaTypes` to turn it back into bytes; see docs/decisions.md).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from serverless_crud import settings
from serverless_crud.api.http import entity_tags, header
from serverless_crud.api.problems import problem_response
from serverless_crud.api.request import Request
from serverless_crud.api.responses import Response

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


#: Content types by file suffix (explicit: `mimetypes` varies by platform and reads system files).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".svg", ".txt")
#: Below this size gzip saves less than the headers cost.
MIN_COMPRESS_BYTES = 512

#: Pages are revalidated on every load (a deploy shows at once); assets are cached briefly (their
#: URLs carry no content hash: ES modules import each other by plain name); the vendored Swagger UI
#: changes only with its version.
CACHE_PAGE = "no-cache"
CACHE_ASSET = "public, max-age=300"
CACHE_VENDOR = "public, max-age=86400"

#: The pages' policy: everything from this origin, nothing inline. API calls may go to another
#: origin only when the pages are hosted elsewhere (then this header does not apply).
CSP_PAGE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
#: Swagger UI sets inline styles and shows data: images.
CSP_DOCS = CSP_PAGE.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class StaticFile:
    """One file of the UI, with its validators and (lazily) its gzip variant."""

    __slots__ = ("_gzipped", "body", "content_type", "etag_token", "name")

    def __init__(self, name: str, body: bytes, content_type: str, etag_token: str) -> None:
        self.name = name
        self.body = body
        self.content_type = content_type
        self.etag_token = etag_token
        self._gzipped: bytes | None = None

    @property
    def etag(self) -> str:
        """The strong ETag of the uncompressed representation."""
        return f'"{self.etag_token}"'

    @property
    def gzip_etag(self) -> str:
        """The strong ETag of the gzip representation (a different byte sequence, so another tag)."""
        return f'"{self.etag_token}-gzip"'

    @property
    def compressible(self) -> bool:
        """Whether a gzip variant is worth sending."""
        return self.name.endswith(COMPRESSIBLE) and len(self.body) >= MIN_COMPRESS_BYTES

    def gzipped(self) -> bytes:
        """The gzip variant, compressed on first use (mtime 0: the same bytes on every instance)."""
        if self._gzipped is None:
            import gzip  # (first compressed response only: no cold-start cost)

            # Level 6: within 0.5 % of level 9's size, a third faster.
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def _static_root() -> Traversable:
    from importlib import resources  # (first UI request only)

    return resources.files("serverless_crud").joinpath("ui", "static")


@cache
def _listing(folder: str) -> frozenset[str]:
    """The file names in one folder of the static tree (only these can be served from it)."""
    directory = _static_root().joinpath(*folder.split("/")) if folder else _static_root()
    if not directory.is_dir():
        return frozenset()
    return frozenset(entry.name for entry in directory.iterdir() if entry.is_file())


@cache
def static_file(folder: str, name: str) -> StaticFile | None:
    """A file of the static tree, read on first request; None when absent or of an unknown type."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if name not in _listing(folder) or suffix not in CONTENT_TYPES:
        return None
    parts = [*folder.split("/"), name] if folder else [name]
    body = _static_root().joinpath(*parts).read_bytes()
    import hashlib  # (first UI request only)

    token = hashlib.sha256(body).hexdigest()[:20]
    return StaticFile(name, body, CONTENT_TYPES[suffix], token)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip (`gzip;q=0` refuses it)."""
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            quality = params.strip().lower().removeprefix("q=")
            try:
                return not params.strip() or float(quality) > 0
            except ValueError:
                return False
    return False


def serve(event: Request, file: StaticFile | None, cache_control: str, **extra: str) -> Response:
    """The response for one static file: 200 (gzip when accepted), 304, or a 404 problem."""
    if file is None:
        return problem_response(404, f"nothing is at {event.path}")
    use_gzip = file.compressible and accepts_gzip(header(event, "accept-encoding"))
    headers = {
        "Cache-Control": cache_control,
        "ETag": file.gzip_etag if use_gzip else file.etag,
        "X-Content-Type-Options": "nosniff",
        **extra,
    }
    if file.compressible:
        headers["Vary"] = "Accept-Encoding"
    # Either representation validates (weak comparison, RFC 9110 13.1.2).
    tags = entity_tags(header(event, "if-none-match"))
    if tags is not None and tags.matches_weakly(file.etag, file.gzip_etag):
        return Response(status_code=304, body="", headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(200, file.content_type, file.gzipped(), headers)
    # Text goes as text (no base64, no binaryMediaTypes needed); bytes are base64-encoded.
    body: str | bytes = file.body.decode() if file.name.endswith(COMPRESSIBLE) else file.body
    return Response(200, file.content_type, body, headers)


def _slash_redirect(event: Request) -> Response | None:
    """`https://host/stage` reaches the root route too; relative links need `https://host/stage/`."""
    seen = event.stage_path
    if event.path == "/" and seen and not seen.endswith("/"):
        location = seen.rsplit("/", 1)[-1] + "/"
        return Response(status_code=308, body="", headers={"Location": location, "Cache-Control": CACHE_PAGE})
    return None


def page(event: Request, path: str, name: str) -> Response:
    """The UI's page `name` (a file of ui/static/), served at `path`."""
    redirect = _slash_redirect(event) if path == "/" else None
    return redirect or serve(
        event, static_file("", name), CACHE_PAGE, **{"Content-Security-Policy": page_csp(name)}
    )


def page_csp(name: str) -> str:
    """The Content-Security-Policy of the page `name` (error pages included)."""
    csp = CSP_DOCS if name == "docs.html" else CSP_PAGE
    current = settings.current()
    # The pages call Cognito's endpoint to sign in and PUT big imports to the bucket, nothing else.
    urls = ((current.cognito_endpoint,) if current.signs_in else ()) + current.upload_origins
    origins = " ".join(dict.fromkeys(f"{u.scheme}://{u.netloc}" for u in map(urlsplit, urls)))
    if origins:
        csp = csp.replace("connect-src 'self'", f"connect-src 'self' {origins}")
    return csp


def asset(event: Request, folder: str, name: str) -> Response:
    """A file of `assets/` (cached briefly) or of the vendored Swagger UI (cached a day)."""
    cache_control = CACHE_VENDOR if folder.startswith("vendor/") else CACHE_ASSET
    return serve(event, static_file(folder, name), cache_control)
