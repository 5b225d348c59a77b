"""The strict HTTP edge: what API Gateway's front door refuses is refused here, in API Gateway's words."""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import PROBE_TEMPLATE, start_server
from tests.support.sockets import closed_at_once

pytestmark = pytest.mark.runs_for(25)

ORIGIN = "https://app.example.com"  # the probe API's DEFAULT_4XX gateway response header


def connect(server, timeout=10.0):
    parts = urlsplit(server.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=timeout)


def exchange(server, raw: bytes, timeout=10.0):
    """Send raw bytes, read until the server closes or the timeout: (status, headers, body)."""
    with connect(server, timeout) as sock:
        sock.sendall(raw)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
                if _complete(data):
                    break
        except TimeoutError:
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0] else 0
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, {k.lower(): v for k, v in headers.items()}, body


def _complete(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def assert_gateway_answer(answer, status, message, error_type):
    code, headers, body = answer
    assert code == status, body
    assert json.loads(body) == {"message": message}
    assert headers["content-type"] == "application/json"
    assert headers["x-amzn-errortype"] == error_type
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "server" not in headers
    assert b"<" not in body


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        b"Content-Length: 5\r\nContent-Length: 5\r\n",
        b"Content-Length: 5, 5\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: five\r\n",
        b"Transfer-Encoding: gzip\r\n",
    ],
    ids=["cl-then-te", "te-then-cl", "two-cl", "cl-list", "negative", "not-a-number", "unknown-coding"],
)
def test_ambiguous_or_malformed_framing_is_400_never_a_hang(probe_server, framing):
    started = time.monotonic()
    answer = exchange(probe_server, b"POST /echo/x HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\nhello")

    assert_gateway_answer(answer, 400, "Bad Request", "BadRequestException")
    assert answer[1]["connection"] == "close"
    assert time.monotonic() - started < 5


def test_a_target_over_8_kb_is_414(probe_server):
    answer = exchange(probe_server, b"GET /echo/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    assert_gateway_answer(answer, 414, "Request-URI Too Long", "RequestUriTooLongException")


def test_headers_over_10_kb_are_431(probe_server):
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"v" * 200) for n in range(60))
    answer = exchange(probe_server, b"GET /echo/x HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")

    assert_gateway_answer(
        answer, 431, "Request Header Fields Too Large", "RequestHeaderFieldsTooLargeException"
    )


def test_bytes_that_are_not_http_are_400(probe_server):
    assert_gateway_answer(
        exchange(probe_server, b"\x16\x03\x01\x00garbage\r\n\r\n"), 400, "Bad Request", "BadRequestException"
    )


@pytest.mark.parametrize(
    "target", ["/echo/a\\b", "/echo/%zz", "/echo/\xe9".encode("latin-1").decode("latin-1")]
)
def test_a_path_with_a_backslash_or_odd_bytes_is_400(probe_server, target):
    answer = exchange(probe_server, b"GET " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    assert_gateway_answer(answer, 400, "Bad Request", "BadRequestException")


def test_a_method_api_gateway_does_not_know_is_403_as_for_no_route(probe_server):
    answer = exchange(probe_server, b"BREW /echo/x HTTP/1.1\r\nHost: x\r\n\r\n")

    assert_gateway_answer(answer, 403, "Missing Authentication Token", "MissingAuthenticationTokenException")


@pytest.mark.parametrize(
    ("target", "status", "message", "error_type"),
    [
        ("/behave/raise", 502, "Internal server error", "InternalServerErrorException"),
        ("/patient/sleep?seconds=3.3", 504, "Endpoint request timed out", "InternalServerErrorException"),
    ],
)
def test_5xx_answers_are_json_with_their_error_type(probe_server, target, status, message, error_type):
    code, headers, body = exchange(probe_server, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    assert (code, json.loads(body)) == (status, {"message": message})
    assert headers["x-amzn-errortype"] == error_type
    assert "server" not in headers


def test_no_answer_carries_a_server_banner(probe_server):
    assert "Server" not in probe_server.request("GET", "/echo/x").headers


def test_a_client_waiting_for_100_continue_gets_it_then_its_answer(probe_server):
    with connect(probe_server) as sock:
        sock.sendall(b"POST /echo/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        assert sock.recv(65536) == b"HTTP/1.1 100 \r\n\r\n"
        sock.sendall(b"hi")
        answer = b""
        while not _complete(answer):
            answer += sock.recv(65536)

    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["event"]["body"] == "hi"


def test_idle_keep_alive_connections_are_closed_and_connections_are_bounded(tmp_path):
    server = start_server(tmp_path, "--idle-timeout", "1", "--max-connections", "3", template=PROBE_TEMPLATE)
    try:
        with connect(server) as idle:
            idle.sendall(b"GET /behave/x HTTP/1.1\r\nHost: x\r\n\r\n")
            assert idle.recv(65536).startswith(b"HTTP/1.1 200")
            started = time.monotonic()
            assert idle.recv(65536) == b""  # closed by the server once idle
            assert time.monotonic() - started < 5

        # Three connections whose requests are being answered: a fourth is closed at once.
        busy = [connect(server) for _ in range(3)]
        try:
            for sock in busy:
                sock.sendall(b"GET /patient/sleep?seconds=1.5 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.5)
            with connect(server) as extra:
                assert closed_at_once(extra, b"GET /behave/x HTTP/1.1\r\nHost: x\r\n\r\n")
            for sock in busy:
                assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        finally:
            for sock in busy:
                sock.close()
        deadline = time.monotonic() + 10
        while True:  # the server notices the closed connections as it reads them
            try:
                assert server.request("GET", "/behave/again").body == b"again"
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        server.stop()


def _drip(sock: socket.socket, stop: threading.Event, outcome: list[bytes]) -> None:
    """Send one header line every half second until the server answers or closes, or `stop`."""
    sock.settimeout(0.5)
    sent = [b"GET /behave/drip HTTP/1.1\r\nHost: x\r\n"]
    number = 0
    try:
        while not stop.is_set():
            sock.sendall(sent.pop() if sent else b"X-Drip-%d: y\r\n" % number)
            number += 1
            try:
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            outcome.append(answer)
            return
    except OSError:
        outcome.append(b"")


def test_clients_dripping_their_heads_at_the_connection_limit_never_lock_a_fresh_client_out(tmp_path):
    server = start_server(tmp_path, "--max-connections", "20", template=PROBE_TEMPLATE)
    stop = threading.Event()
    outcomes: list[list[bytes]] = [[] for _ in range(20)]
    drippers = [connect(server, timeout=30) for _ in range(20)]
    threads = [
        threading.Thread(target=_drip, args=(sock, stop, outcome))
        for sock, outcome in zip(drippers, outcomes, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # every dripper is connected and sending: the limit is reached
        # A fresh client takes the place of the dripper that has waited longest.
        replies = [server.request("GET", f"/behave/probe-{number}") for number in range(32)]
        assert [reply.status for reply in replies] == [200] * 32
        for thread in threads:
            thread.join(timeout=60)  # the head deadline is 10 s; the join is a guard against a hang
        # None was ever answered: the first was let go for the fresh client, the others were answered
        # 408 at their head deadline, however regularly they sent their lines.
        assert outcomes[0] == [b""]
        for outcome in outcomes[1:]:
            assert outcome and outcome[0].startswith(b"HTTP/1.1 408 "), outcome
            assert json.loads(outcome[0].partition(b"\r\n\r\n")[2]) == {"message": "Request Timeout"}
    finally:
        stop.set()
        for sock in drippers:
            sock.close()
        server.stop()
