"""A strict HTTP/1.1 front door: h11 parsing on one asyncio loop, handlers on a bounded thread pool.

Both of the runtime's ports use it (the API Gateway and the AWS endpoint). What API Gateway's own
front door refuses is refused here, before any handler runs, with the handler's own error answers:
- a request head over 10 KB is 431, a target over 8 KB is 414, a body over the limit is 413;
- a malformed request is 400 and the connection closes: both Content-Length and Transfer-Encoding,
  two Content-Length headers (or a list in one), a negative or non-numeric length, bytes that are not
  HTTP (request smuggling shapes are refused, never guessed at);
- a request's head must arrive within `head_seconds` of its first byte, whatever the pace of its
  lines (a client dripping one header line at a time is answered 408 and closed), and its body at
  `min_body_rate` bytes a second after a `read_seconds` grace; a connection idle between requests is
  closed after `idle_seconds`, one that stalls mid-request after `read_seconds`;
- at most `max_connections` are open at once: at the limit a new connection takes the place of the
  one that has waited longest for its request (idle, or still sending it), so slow or idle clients
  can never lock a fresh one out; only when every connection is being answered is the new one closed.
An idle connection costs no thread, only handlers do. Responses carry no Server banner.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

from serverless_local.http import (
    BAD_REQUEST,
    FAILED,
    HEADERS_TOO_LARGE,
    REQUEST_TIMEOUT,
    TOO_LARGE,
    URI_TOO_LONG,
    GatewayError,
    HttpRequest,
    HttpResponse,
)

#: Shapes of a body the edge does not decide to guess about.
_FRAMING = (b"content-length", b"transfer-encoding")


@dataclass(frozen=True)
class Limits:
    """How much one request and one connection may take."""

    max_head_bytes: int = 10 * 1024
    max_target_bytes: int = 8 * 1024
    max_body_bytes: int = 10 * 1024 * 1024
    max_connections: int = 1024
    idle_seconds: float = 60.0
    read_seconds: float = 10.0
    head_seconds: float = 10.0
    min_body_rate: float = 64 * 1024
    workers: int = 64


Handler = Callable[[HttpRequest], HttpResponse]
#: The server's own answer to a request it refuses: (the error) -> response.
Refusal = Callable[[GatewayError], HttpResponse]


class _Refused(Exception):
    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


class HttpEdge:
    """One listening port; `start` serves it on a thread of its own, `stop` ends it."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        refusal: Refusal,
        limits: Limits = Limits(),
        *,
        access_log: bool = False,
    ) -> None:
        self.name = name
        self.handler = handler
        self.refusal = refusal
        self.limits = limits
        self.access_log = access_log
        self.open_connections = 0
        #: Called once, after the first response is written (the server's background work waits for it).
        self.first_answer: Callable[[], None] | None = None
        #: Connections waiting for (the rest of) a request, by when they began to: the first is evicted
        #: when the limit is reached.
        self._waiting: dict[asyncio.StreamWriter, float] = {}
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._pool = ThreadPoolExecutor(limits.workers, thread_name_prefix=name)
        self._ready = threading.Event()

    def bind(self, host: str, port: int) -> None:
        """Bind now (a port in use is an OSError here, before anything is served)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(512)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._socket = sock

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) bound."""
        assert self._socket is not None
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """http://host:port"""
        host, port = self.address
        return f"http://{host}:{port}"

    def start(self) -> None:
        """Serve on a thread of its own."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        """Stop accepting, close the connections, let running handlers finish."""
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _shutdown(self) -> None:
        """Close the listener and every connection, then end the loop."""
        if self._server is not None:
            self._server.close()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_server(self._connection, sock=self._socket))
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.close()

    # -- one connection ------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open_connections >= self.limits.max_connections:
            longest = next(iter(self._waiting), None)
            if longest is None:  # every connection is being answered: this one waits for none of them
                writer.transport.abort()
                return
            del self._waiting[longest]
            longest.transport.abort()  # its coroutine ends and counts it out
        self.open_connections += 1
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = writer.get_extra_info("peername") or ("", 0)
        try:
            pending = b""
            while True:
                self._waiting[writer] = time.monotonic()
                try:
                    request, pending, keep_alive = await self._request(reader, writer, pending, str(peer[0]))
                finally:
                    self._waiting.pop(writer, None)
                if request is None:
                    break
                response = await asyncio.get_running_loop().run_in_executor(self._pool, self._answer, request)
                await self._write(writer, request.method, response, keep_alive)
                if self.first_answer is not None:
                    first_answer, self.first_answer = self.first_answer, None
                    first_answer()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError, asyncio.CancelledError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    async def _request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pending: bytes, peer: str
    ) -> tuple[HttpRequest | None, bytes, bool]:
        """The next request (None: the connection ends), bytes read past it, and whether to keep alive."""
        limits = self.limits
        try:
            head, rest = await self._head(reader, pending)
        except _Refused as refused:
            await self._write(writer, "GET", self.refusal(refused.error), keep_alive=False)
            return None, b"", False
        if head is None:
            return None, b"", False
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_head_bytes)
        connection.receive_data(head + rest)
        try:
            event = connection.next_event()
            if not isinstance(event, h11.Request):
                raise h11.RemoteProtocolError("not a request")
            started = time.monotonic()
            body, rest = await self._body(reader, writer, connection, event)
        except (h11.RemoteProtocolError, _Refused) as error:
            answer = error.error if isinstance(error, _Refused) else BAD_REQUEST
            await self._write(writer, "GET", self.refusal(answer), keep_alive=False)
            return None, b"", False
        keep_alive = connection.our_state is h11.SEND_RESPONSE and _keep_alive(event)
        local_port = self.address[1]
        request = HttpRequest(
            method=event.method.decode("ascii", "replace"),
            target=event.target.decode("latin-1"),
            headers=[
                (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers.raw_items()
            ],
            body=body,
            source_ip=peer,
            protocol="HTTP/" + event.http_version.decode(),
            local_port=local_port,
            received=started,
        )
        return request, rest, keep_alive

    async def _head(self, reader: asyncio.StreamReader, pending: bytes) -> tuple[bytes | None, bytes]:
        """The request line and headers (through the blank line), checked; None at a clean end.

        Idle, the connection may wait `idle_seconds` in all for a request to begin; from its first byte
        (blank lines included) the whole head must arrive within `head_seconds`.
        """
        limits = self.limits
        buffer = pending
        now = time.monotonic()
        idle_until = now + limits.idle_seconds
        head_until = now + limits.head_seconds if buffer else None
        while b"\r\n\r\n" not in buffer:
            first_line = buffer.split(b"\r\n", 1)[0]
            if len(first_line) > limits.max_target_bytes + 32:
                raise _Refused(URI_TOO_LONG)
            if len(buffer) > limits.max_head_bytes:
                raise _Refused(HEADERS_TOO_LARGE)
            now = time.monotonic()
            if head_until is None:
                wait = idle_until - now
            else:
                wait = min(limits.read_seconds, head_until - now)
                if wait <= 0:
                    raise _Refused(REQUEST_TIMEOUT)
            try:
                async with asyncio.timeout(max(wait, 0)):
                    chunk = await reader.read(65536)
            except TimeoutError:
                if head_until is not None and time.monotonic() >= head_until:
                    raise _Refused(REQUEST_TIMEOUT) from None
                raise
            if not chunk:
                if buffer.strip():
                    raise _Refused(BAD_REQUEST)
                return None, b""
            if head_until is None:
                head_until = time.monotonic() + limits.head_seconds
            buffer += chunk
        end = buffer.index(b"\r\n\r\n") + 4
        head, rest = buffer[:end], buffer[end:]
        head = head.lstrip(b"\r\n")  # a client may send blank lines between requests (RFC 9112 2.2)
        lines = head.split(b"\r\n")
        target = lines[0].split(b" ")
        if len(target) == 3 and len(target[1]) > limits.max_target_bytes:
            raise _Refused(URI_TOO_LONG)
        if len(head) > limits.max_head_bytes:
            raise _Refused(HEADERS_TOO_LARGE)
        names = [line.split(b":", 1)[0].strip().lower() for line in lines[1:] if line]
        lengths = [
            line.split(b":", 1)[1]
            for line in lines[1:]
            if line.split(b":", 1)[0].strip().lower() == b"content-length"
        ]
        if len(lengths) > 1 or any(b"," in value for value in lengths):
            raise _Refused(BAD_REQUEST)
        if all(name in names for name in _FRAMING):
            raise _Refused(BAD_REQUEST)
        return head, rest

    async def _body(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        connection: h11.Connection,
        request: h11.Request,
    ) -> tuple[bytes, bytes]:
        """The whole body (h11 decodes chunked), then any bytes of the next request."""
        limits = self.limits
        chunks: list[bytes] = []
        total = 0
        too_large = False
        began, received = time.monotonic(), 0
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                if connection.they_are_waiting_for_100_continue:
                    writer.write(
                        connection.send(h11.InformationalResponse(status_code=100, headers=[])) or b""
                    )
                # A grace of read_seconds, then at least min_body_rate bytes a second on average.
                allowed = began + limits.read_seconds + received / limits.min_body_rate - time.monotonic()
                if allowed <= 0:
                    raise _Refused(REQUEST_TIMEOUT)
                try:
                    async with asyncio.timeout(min(limits.read_seconds, allowed)):
                        data = await reader.read(65536)
                except TimeoutError:
                    raise _Refused(REQUEST_TIMEOUT) from None
                if not data:
                    raise h11.RemoteProtocolError("the body was cut short")
                received += len(data)
                connection.receive_data(data)
                continue
            if isinstance(event, h11.Data):
                total += len(event.data)
                # Over the limit, the rest is read and dropped, so the client gets its 413.
                too_large = too_large or total > limits.max_body_bytes
                if not too_large:
                    chunks.append(bytes(event.data))
                elif total > 4 * limits.max_body_bytes:
                    raise _Refused(TOO_LARGE)
                continue
            if isinstance(event, h11.EndOfMessage):
                if too_large:
                    raise _Refused(TOO_LARGE)
                trailing = connection.trailing_data[0]
                return b"".join(chunks), bytes(trailing)
            raise h11.RemoteProtocolError("unexpected event")

    def _answer(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        try:
            response = self.handler(request)
        except Exception:  # a fault of the runtime itself: answered as API Gateway would
            traceback.print_exc()
            response = self.refusal(FAILED)
        if self.access_log:
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"{request.method} {request.target} {response.status} {elapsed:.1f} ms",
                file=sys.stderr,
                flush=True,
            )
        return response

    async def _write(
        self, writer: asyncio.StreamWriter, method: str, response: HttpResponse, keep_alive: bool
    ) -> None:
        headers = [
            (name, value)
            for name, value in response.headers
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server")
        ]
        headers += [("Date", formatdate(usegmt=True)), ("Content-Length", str(len(response.body)))]
        if not keep_alive:
            headers.append(("Connection", "close"))
        head = _head_bytes(response.status, headers)
        if head is None:  # a header no HTTP/1.1 message may carry (a newline in a value, say)
            await self._write(writer, method, self.refusal(FAILED), keep_alive)
            return
        writer.write(head if method == "HEAD" else head + response.body)
        await writer.drain()


#: A header h11 would send (its own rules, h11/_abnf.py): a token for a name; a value of characters
#: that are neither NUL nor whitespace, single spaces or tabs between them (no line break).
_FIELD_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_FIELD_VALUE = re.compile(rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")


def _head_bytes(status: int, headers: list[tuple[str, str]]) -> bytes | None:
    """The status line and headers, validated as h11 validates them; None if one is invalid.

    (Checked with h11's patterns directly: building an h11 Response for the check cost as much as
    the rest of writing the answer.)
    """
    if not 100 <= status <= 999:
        return None
    lines = [f"HTTP/1.1 {status} {_reason(status)}".encode()]
    for name, value in headers:
        try:
            raw_name, raw_value = name.encode("ascii"), value.encode("ascii")  # as h11 encodes them
        except UnicodeEncodeError:
            return None
        if not _FIELD_NAME.fullmatch(raw_name) or not _FIELD_VALUE.fullmatch(raw_value):
            return None
        lines.append(raw_name + b": " + raw_value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _keep_alive(request: h11.Request) -> bool:
    tokens = b",".join(value for name, value in request.headers if name == b"connection").lower()
    if request.http_version == b"1.0":
        return b"keep-alive" in tokens
    return b"close" not in tokens


# -- the AWS endpoint: a WSGI application behind the same edge ----------------------------------------
def wsgi_handler(app: Callable[..., Iterable[bytes]], server_name: str) -> Handler:
    """A handler that answers through a WSGI application (moto's), headers as moto's server passes them."""
    from moto.core.request import (
        PRESERVED_HEADER_NAMES_ENVIRON_KEY,
        environ_key_for_header,
        should_preserve_original_header_name,
    )

    def handle(request: HttpRequest) -> HttpResponse:
        path, _, query = request.target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": request.target,
            "REQUEST_URI": request.target,
            "SERVER_NAME": server_name,
            "SERVER_PORT": str(request.local_port),
            "SERVER_PROTOCOL": request.protocol,
            "REMOTE_ADDR": request.source_ip,
            "CONTENT_LENGTH": str(len(request.body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        preserved: dict[str, str] = {}
        for name, value in request.headers:
            key = environ_key_for_header(name)
            if key in ("CONTENT_LENGTH",):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
            if should_preserve_original_header_name(name):
                preserved[key] = name
        if preserved:
            environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started[:] = [status, headers]
            return lambda data: None

        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return HttpResponse(int(str(status).split(" ", 1)[0]), list(headers), body)

    return handle
