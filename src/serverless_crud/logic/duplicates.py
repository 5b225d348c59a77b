"""Keys that a file names twice, found with memory that does not grow with the file.

An import reads its file once, as a stream, and cannot keep every key it has seen: a ten-million-row
file's keys would take gigabytes as Python objects. Each key's 8-byte fingerprint goes instead, with
its line and its row's position, to one of 256 temporary files chosen by the fingerprint; once the
file is read, each temporary file is read alone (a 256th of the keys), and a fingerprint met again
is a repeated key. The repeats are then sorted by the chunk their row is in through a second set of
temporary files, so that `by_chunk` hands them out chunk by chunk, in order, again one slice in
memory at a time. Lambda's /tmp holds the files: 16 bytes per row with a key (160 MB for ten million).

Fingerprints are 64 bits: two different keys of a ten-million-row file share one with a chance of
about 3 in a million.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_SEEN = struct.Struct("<QII")  # fingerprint, line, position
_REPEAT = struct.Struct("<III")  # position, line, line of the first occurrence
_BUCKETS = 256
_BUFFER = 16 * 1024


class DuplicateKeys:
    """The rows of a stream whose key an earlier row had (use as a context manager)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._files: list[IO[bytes]] = [
            (directory / f"keys-{n:03d}").open("wb", buffering=_BUFFER) for n in range(_BUCKETS)
        ]

    def __enter__(self) -> DuplicateKeys:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the temporary files (the caller removes their directory)."""
        for sink in self._files:
            sink.close()

    def add(self, email: str, record_id: int, line: int, position: int) -> None:
        """A row's key, its line and its position among the rows (from 0)."""
        fingerprint = int.from_bytes(
            hashlib.blake2b(f"{email}\0{record_id}".encode(), digest_size=8).digest(), "little"
        )
        self._files[fingerprint % _BUCKETS].write(_SEEN.pack(fingerprint, line, position))

    def by_chunk(self, chunk_rows: int, chunks: int) -> Iterator[tuple[int, dict[int, int]]]:
        """(chunk, {line: line of the key's first row}) of every chunk of `chunk_rows` rows that holds
        a repeated key, in chunk order."""
        self.close()
        ranges = max(1, min(_BUCKETS, chunks))
        span = -(-chunks // ranges)  # chunks per range file, rounded up
        sinks = [(self._directory / f"repeats-{n:03d}").open("wb", buffering=_BUFFER) for n in range(ranges)]
        try:
            for bucket in range(_BUCKETS):
                for position, line, first in _repeats(self._directory / f"keys-{bucket:03d}"):
                    sinks[position // chunk_rows // span].write(_REPEAT.pack(position, line, first))
        finally:
            for sink in sinks:
                sink.close()
        for n in range(ranges):
            grouped: dict[int, dict[int, int]] = {}
            for position, line, first in _REPEAT.iter_unpack(
                (self._directory / f"repeats-{n:03d}").read_bytes()
            ):
                grouped.setdefault(position // chunk_rows, {})[line] = first
            yield from sorted(grouped.items())


def _repeats(path: Path) -> Iterator[tuple[int, int, int]]:
    """(position, line, first line) of each row of one bucket file whose fingerprint came before."""
    first_line: dict[int, int] = {}
    for fingerprint, line, position in _SEEN.iter_unpack(path.read_bytes()):
        earlier = first_line.setdefault(fingerprint, line)
        if earlier != line:
            yield position, line, earlier


__all__ = ["DuplicateKeys"]
