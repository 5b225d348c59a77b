"""Every execution environment's output, as Lambda keeps it: each line on the console, prefixed with the
function's name, and in the function's log stream (CloudWatch Logs), unbuffered.

One thread reads every environment's two pipes: what the function writes to stdout and stderr (its
prints, Powertools' JSON lines, EMF metrics, a subprocess's output), one event per line, and the
records its root logger and Lambda's runtime write (a traceback stays one event), one frame each.
Before the CloudWatch Logs writer is attached (the embedded AWS is still starting), events wait in a
bounded buffer; the console gets them at once.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from serverless_local.services.lambda_.worker import PLATFORM

#: Writes events to a log stream: (group, stream, [{"timestamp": ms, "message": text}]).
LogWriter = Callable[[str, str, list[dict[str, object]]], None]
#: Events kept for the writer before it is attached (the oldest are dropped past this).
PENDING_LIMIT = 10_000
#: A line longer than this is cut into events of this size (CloudWatch Logs' event limit is 256 KB).
MAX_EVENT_BYTES = 256 * 1024 - 26


@dataclass
class _Source:
    """One pipe of one execution environment."""

    function: str
    group: str
    stream: str
    framed: bool
    buffer: bytearray = field(default_factory=bytearray)


class LogCollector:
    """Reads the environments' pipes on one thread; `attach` connects CloudWatch Logs."""

    def __init__(self, console: TextIO | None = None) -> None:
        self.console = console if console is not None else sys.stdout
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._added: list[tuple[int, _Source]] = []
        self._writer: LogWriter | None = None
        self._pending: list[tuple[str, str, dict[str, object]]] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="function-logs", daemon=True)
        self._thread.start()

    def add(self, function: str, group: str, stream: str, output: int, records: int) -> None:
        """Read an environment's output pipe (lines) and its log pipe (frames) until they close."""
        with self._lock:
            self._added.append((output, _Source(function, group, stream, framed=False)))
            self._added.append((records, _Source(function, group, stream, framed=True)))
        self._wake()

    def attach(self, writer: LogWriter) -> None:
        """Send events to `writer` from now on (and those that waited for it)."""
        with self._lock:
            self._writer = writer
            pending, self._pending = self._pending, []
        _write_grouped(writer, pending)

    def line(self, function: str, group: str, stream: str, message: str) -> None:
        """One line of the runtime's own about a function (a timeout), to the console and its log."""
        self._emit(function, [(group, stream, _event(message))], [message])

    def stop(self) -> None:
        """Stop reading (what is still in the pipes is read first)."""
        self._stopped = True
        self._wake()
        self._thread.join(timeout=5)

    # -- the reading thread --------------------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake_write, b"x")

    def _run(self) -> None:
        while not self._stopped:
            for key, _ in self._selector.select():
                if key.data is None:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_read, 4096)
                else:
                    self._read(key.fd, key.data)
            with self._lock:
                added, self._added = self._added, []
            for descriptor, source in added:
                os.set_blocking(descriptor, False)
                self._selector.register(descriptor, selectors.EVENT_READ, source)
        for key in list(self._selector.get_map().values()):  # what is left in the pipes
            if key.data is not None:
                self._read(key.fd, key.data)

    def _read(self, descriptor: int, source: _Source) -> None:
        """Read what the pipe holds; emit the complete lines or frames; at its end, close it."""
        try:
            data = os.read(descriptor, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        source.buffer += data
        if source.framed:
            messages = _frames(source.buffer)
        else:
            messages = [(True, line) for line in _lines(source.buffer, closed=not data)]
        if messages:
            self._emit(
                source.function,
                [(source.group, source.stream, _event(text)) for _, text in messages],
                [text for shown, text in messages if shown],
            )
        if not data:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(descriptor)
            with contextlib.suppress(OSError):
                os.close(descriptor)

    def _emit(
        self, function: str, events: list[tuple[str, str, dict[str, object]]], shown: list[str]
    ) -> None:
        """Log `events`; print the `shown` messages on the console (Lambda's own lines are not)."""
        if shown:
            with contextlib.suppress(OSError, ValueError):
                lines = (line for message in shown for line in message.split("\n"))
                self.console.write("".join(f"[{function}] {line}\n" for line in lines))
                self.console.flush()
        with self._lock:
            writer = self._writer
            if writer is None:
                self._pending.extend(events)
                del self._pending[:-PENDING_LIMIT]
                return
        _write_grouped(writer, events)


def _event(message: str) -> dict[str, object]:
    return {"timestamp": int(time.time() * 1000), "message": message}


def _write_grouped(writer: LogWriter, events: list[tuple[str, str, dict[str, object]]]) -> None:
    grouped: dict[tuple[str, str], list[dict[str, object]]] = {}
    for group, stream, event in events:
        grouped.setdefault((group, stream), []).append(event)
    for (group, stream), batch in grouped.items():
        with contextlib.suppress(Exception):  # a log write never takes a function down
            writer(group, stream, batch)


def _lines(buffer: bytearray, *, closed: bool) -> list[str]:
    """The complete lines in `buffer` (removed from it); all of it once the pipe has closed."""
    end = buffer.rfind(b"\n")
    if closed:
        end = len(buffer)
    if end < 0:
        if len(buffer) < MAX_EVENT_BYTES:
            return []
        end = MAX_EVENT_BYTES
    chunk = bytes(buffer[:end])
    del buffer[: end + 1 if end < len(buffer) and buffer[end : end + 1] == b"\n" else end]
    text = chunk.decode("utf-8", "replace")
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def _frames(buffer: bytearray) -> list[tuple[bool, str]]:
    """The complete frames in `buffer` (removed from it): 4-byte length, kind, UTF-8 text; each as
    (whether the console shows it: not Lambda's own START and END lines, its REPORT line as
    `sam local` shows it, its text)."""
    texts = []
    while len(buffer) >= 4:
        length = int.from_bytes(buffer[:4], "big")
        if len(buffer) < 4 + length:
            break
        shown = buffer[4:5] != PLATFORM
        texts.append((shown, bytes(buffer[5 : 4 + length]).decode("utf-8", "replace")))
        del buffer[: 4 + length]
    return texts
