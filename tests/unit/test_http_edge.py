"""The HTTP edge's deadlines and its connection limit, over real sockets, with short limits.

A client that drips its request (one header line, one body byte at a time) is answered 408 and
closed once its deadline passes, however regular its drip; at the connection limit a new client takes
the place of the one that has waited longest for its request. (tests/e2e/test_http_edge.py runs the
same against `serverless-crud serve`.)
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from serverless_local.http_edge import HttpEdge, Limits
from serverless_local.services.apigateway.gateway import HttpRequest, HttpResponse
from tests.support.sockets import closed_at_once

GUARD_SECONDS = 20  # against a hang, never a measure of speed


def refusal(error):
    return HttpResponse(
        error.status, [("Content-Type", "application/json")], json.dumps({"message": error.message}).encode()
    )


@contextlib.contextmanager
def edge(limits: Limits, handler=None) -> Iterator[HttpEdge]:
    served = HttpEdge("test", handler or (lambda request: HttpResponse(200, [], b"ok")), refusal, limits)
    served.bind("127.0.0.1", 0)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def connect(served: HttpEdge) -> socket.socket:
    return socket.create_connection(served.address, timeout=GUARD_SECONDS)


def drip(sock: socket.socket, lines: Iterator[bytes], every: float) -> bytes:
    """Send one line every `every` seconds until the server answers or closes; what it sent back."""
    sock.settimeout(every)
    answer = b""
    deadline = time.monotonic() + GUARD_SECONDS
    for line in lines:
        assert time.monotonic() < deadline, "the server let a dripping client go on"
        try:
            sock.sendall(line)
        except (BrokenPipeError, ConnectionResetError):
            return answer
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return answer
        if not chunk:
            return answer
        answer += chunk
    raise AssertionError("unreachable: the lines are endless")


def header_lines() -> Iterator[bytes]:
    yield b"GET / HTTP/1.1\r\nHost: x\r\n"
    number = 0
    while True:
        number += 1
        yield b"X-Drip-%d: y\r\n" % number


def test_a_head_dripped_one_line_at_a_time_is_answered_408_and_closed():
    with edge(Limits(head_seconds=1.0, read_seconds=5.0)) as served, connect(served) as sock:
        answer = drip(sock, header_lines(), every=0.2)

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Connection: close" in answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"message": "Request Timeout"}


def test_blank_lines_do_not_keep_a_connection_waiting_forever():
    with edge(Limits(head_seconds=1.0, idle_seconds=5.0)) as served, connect(served) as sock:
        answer = drip(sock, iter(lambda: b"\r\n", None), every=0.2)

    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 408 "))  # an empty request, or too slow one


def test_a_body_dripped_below_the_minimum_rate_is_answered_408_and_closed():
    def body() -> Iterator[bytes]:
        yield b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
        while True:
            yield b"x"

    with edge(Limits(read_seconds=1.0, min_body_rate=1000)) as served, connect(served) as sock:
        answer = drip(sock, body(), every=0.2)

    assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_request_that_arrives_in_time_is_answered_however_it_is_split():
    with edge(Limits(head_seconds=2.0)) as served, connect(served) as sock:
        for part in (b"GET / HT", b"TP/1.1\r\nHo", b"st: x\r\n", b"\r\n"):
            sock.sendall(part)
            time.sleep(0.05)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_at_the_limit_a_new_client_takes_the_place_of_the_longest_waiting():
    with edge(Limits(max_connections=3, head_seconds=60.0, read_seconds=60.0)) as served:
        drippers = [connect(served) for _ in range(3)]
        try:
            for sock in drippers:
                sock.sendall(b"GET / HTTP/1.1\r\n")  # and nothing more: waiting for its head
                time.sleep(0.05)
            for _ in range(5):  # each fresh client is answered...
                with connect(served) as fresh:
                    fresh.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    assert fresh.recv(65536).startswith(b"HTTP/1.1 200 ")
            drippers[0].settimeout(GUARD_SECONDS)
            with contextlib.suppress(ConnectionResetError):  # ...and the longest waiting was closed
                assert drippers[0].recv(65536) == b""
        finally:
            for sock in drippers:
                sock.close()


def test_when_every_connection_is_being_answered_a_new_one_is_closed():
    release = threading.Event()

    def slow(request: HttpRequest) -> HttpResponse:
        release.wait(GUARD_SECONDS)
        return HttpResponse(200, [], b"done")

    with edge(Limits(max_connections=2), slow) as served:
        busy = [connect(served) for _ in range(2)]
        try:
            for sock in busy:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)  # both requests reach the handler
            with connect(served) as extra:
                assert closed_at_once(extra, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            release.set()
            for sock in busy:
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        finally:
            release.set()
            for sock in busy:
                sock.close()


@pytest.mark.parametrize("limits", [Limits(), Limits(max_connections=1)])
def test_the_defaults_answer_an_ordinary_request(limits):
    with edge(limits) as served, connect(served) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_response_header_is_refused_exactly_when_h11_would_refuse_it():
    import h11

    from serverless_local.http_edge import _head_bytes

    characters = [chr(code) for code in range(256)] + ["€", "ŋ"]
    for character in characters:
        for value in (character, f"a{character}b", f"{character}x", f"x {character}", ""):
            for name in ("X", f"X{character}", character):
                for status in (200, 99, 599, 1000):
                    try:
                        h11.Response(status_code=status, headers=[(name, value)])
                        sendable = True
                    except (h11.LocalProtocolError, UnicodeEncodeError):
                        sendable = False
                    assert (_head_bytes(status, [(name, value)]) is not None) == sendable, (
                        name,
                        value,
                        status,
                    )
