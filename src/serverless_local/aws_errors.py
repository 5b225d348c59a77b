"""Errors of the local AWS endpoint, shaped as the service a request was for shapes its own: a JSON
document for the JSON protocols, an XML one for the query and REST-XML protocols, with the status and
code an SDK reads, and never one it retries (no 500, 502, 503 or 504 for what will not change).

What the endpoint does not emulate (a service moto lacks, an action moto has not implemented, a call
moto fails on) is `501 NotImplemented`, and the console says so in one line.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

#: A WSGI application.
App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@cache
def _protocols() -> dict[str, tuple[str, str]]:
    """By signing name (and endpoint prefix): the service's name in botocore and its protocol."""
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    found: dict[str, tuple[str, str]] = {}
    for service in loader.list_available_services("service-2"):
        metadata = loader.load_service_model(service, "service-2")["metadata"]
        entry = (service, str(metadata.get("protocol", "json")))
        for key in (metadata.get("signingName"), metadata.get("endpointPrefix"), service):
            if key:
                found.setdefault(str(key), entry)
    return found


def _form_action(environ: dict[str, Any]) -> str:
    """The Action of a query-protocol request: in the query string, or in its form body."""
    from urllib.parse import parse_qs

    fields = parse_qs(str(environ.get("QUERY_STRING", "")))
    body = environ.get("wsgi.input")
    if "Action" not in fields and body is not None and hasattr(body, "seek"):
        body.seek(0)
        fields = parse_qs(body.read().decode("utf-8", "replace"))
    return fields.get("Action", [""])[0]


def describe(environ: dict[str, Any], signing_name: str) -> tuple[str, str, str]:
    """The service (its signing name), the action and the protocol of a request, as far as known: the
    request itself says which protocol the SDK speaks (a service may offer several)."""
    service, modelled = _protocols().get(signing_name, (signing_name or "an unknown service", "json"))
    content_type = str(environ.get("CONTENT_TYPE", ""))
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    path = str(environ.get("PATH_INFO", ""))
    if str(environ.get("HTTP_SMITHY_PROTOCOL", "")) == "rpc-v2-cbor":
        return service, path.rpartition("/")[2], "cbor"
    if target or content_type.startswith("application/x-amz-json"):
        return service, target.rpartition(".")[2] or path, "json"
    action = (
        _form_action(environ) if modelled in ("query", "ec2") or "form-urlencoded" in content_type else ""
    )
    if action:
        return service, action, "query"
    return service, f"{environ.get('REQUEST_METHOD', '')} {path}", modelled


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    size = len(data)
    if size < 24:
        head = bytes([0x60 | size])
    elif size < 0x100:
        head = bytes([0x78, size])
    else:
        head = bytes([0x79]) + size.to_bytes(2, "big")
    return head + data


def _cbor_map(fields: dict[str, str]) -> bytes:
    """A CBOR map of text to text (RFC 8949): all an rpc-v2-cbor error body holds."""
    return bytes([0xA0 | len(fields)]) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in fields.items())


def error_response(
    protocol: str, status: int, code: str, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status line, headers and body of an AWS error in `protocol`'s shape."""
    request_id = str(uuid.uuid4())
    reason = {400: "Bad Request", 404: "Not Found", 501: "Not Implemented"}.get(status, "Error")
    headers = [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
    if protocol == "cbor":
        body = _cbor_map({"__type": code, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
    elif protocol in ("query", "ec2"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    else:  # rest-xml
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    return f"{status} {reason}", headers, body


def not_emulated(app: App, signing_name: Callable[[dict[str, Any]], str]) -> App:
    """`app` (moto's dispatcher), answering what it cannot serve as `501 NotImplemented` in the
    service's protocol, with one line on the console instead of a traceback or an HTML page."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started: list[Any] = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: None

        try:
            body = b"".join(app(environ, remember))
            problem = None
            status, headers = started
            content_type = {k.lower(): v for k, v in headers}.get("content-type", "")
            page = body.lstrip()[:15].lower()
            if content_type.startswith("text/html") and page.startswith((b"<!doctype html", b"<html")):
                problem = "is not a service or URL the local AWS endpoint knows"  # moto's "not found" page
        except NotImplementedError:
            problem = "is not emulated by the local AWS endpoint"
        except Exception as error:  # moto failing on a call is a limit of the emulation, said once
            problem = f"failed in the local AWS endpoint's emulation ({type(error).__name__})"
        if problem is None:
            start_response(status, headers)
            return [body]
        service, action, protocol = describe(environ, signing_name(environ))
        message = f"{service} {action} {problem}"
        print(
            f"serverless-local: AWS endpoint: {message} (answered 501 NotImplemented)",
            file=sys.stderr,
            flush=True,
        )
        status, headers, body = error_response(protocol, 501, "NotImplemented", message)
        start_response(status, headers)
        return [body]

    return guarded
