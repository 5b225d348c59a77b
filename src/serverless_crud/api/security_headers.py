"""The headers a browser expects on every response, set in one place (`api.app.resolve`).

- `X-Content-Type-Options: nosniff` on every response, JSON and problem+json included: a browser
  never guesses another type than the one declared.
- `Referrer-Policy: no-referrer`: the pages' addresses hold emails and record ids; no other site
  (nor this one) is told them through Referer.
- `Strict-Transport-Security` when the request came over HTTPS (API Gateway says so in
  X-Forwarded-Proto on AWS, its only scheme): browsers then never try plain HTTP for the host. Not
  `includeSubDomains`: a custom domain's siblings are not the stack's to decide for. The local
  server speaks plain HTTP and gets none (a browser ignores it there anyway).
"""

from __future__ import annotations

from serverless_crud.api.request import Request

HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HSTS = "max-age=31536000"


def over_https(event: Request) -> bool:
    """Whether the client reached API Gateway over HTTPS."""
    return event.headers.get("x-forwarded-proto", "").strip().lower() == "https"


def add_security_headers(event: Request, headers: dict[str, str]) -> None:
    """Set the headers above in a response's `headers`, keeping any a route set itself."""
    present = {name.lower() for name in headers}
    wanted = {**HEADERS, **({"Strict-Transport-Security": HSTS} if over_https(event) else {})}
    for name, value in wanted.items():
        if name.lower() not in present:
            headers[name] = value
