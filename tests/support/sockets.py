"""Raw sockets against an HTTP server: what a misbehaving or a plain client sees."""

from __future__ import annotations

import socket


def closed_at_once(sock: socket.socket, request: bytes) -> bool:
    """Whether the server closed the connection instead of answering `request` on it."""
    try:
        sock.sendall(request)
        return sock.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
