"""Durable local data: an append-only journal of DynamoDB changes and snapshots in DynamoDB's export format.

The journal holds one JSON entry per line, each prefixed by its CRC-32, so a torn or corrupted tail
is detected and everything before it is kept. Entries describe states, not requests (the item as it
is after the write, a table as created), so replaying them is deterministic.

The journal is a series of numbered segments. Compaction rotates to a new segment (under the
caller's lock, with the state captured at that instant), then writes the snapshot while appends go
on, makes it current with an atomic rename, and deletes the segments the snapshot covers. A crash at
any point leaves a current snapshot plus the segments after it.

Layout of the state directory::

    dynamodb/journal-<n>.log                 <crc32 hex> <json entry>\\n ...
    dynamodb/CURRENT                         name of the current snapshot directory
    dynamodb/snapshot-<n>/manifest.json      tables (CreateTable parameters, TTL); first segment after it
    dynamodb/snapshot-<n>/data/<k>.json      one {"Item": {...}} per line (DynamoDB JSON export)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
SEGMENT = re.compile(r"journal-(\d{6})\.log")


@dataclass
class TableImage:
    """One table in a snapshot: how to create it, its TTL setting, and its items (DynamoDB JSON)."""

    create: dict[str, Any]
    ttl: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class JournalContents:
    """The entries read back, and where the first damaged line was, if any."""

    entries: list[dict[str, Any]]
    damaged_file: Path | None = None
    damaged_at_line: int | None = None
    problem: str | None = None


def encode_line(entry: dict[str, Any]) -> bytes:
    """One journal line: the entry's CRC-32 (hex) and its compact JSON."""
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode_line(line: bytes) -> dict[str, Any]:
    """The entry of one line; ValueError if the line is torn or does not match its checksum."""
    if not line.endswith(b"\n"):
        raise ValueError("the line is incomplete (the write was cut short)")
    checksum, _, payload = line.rstrip(b"\n").partition(b" ")
    try:
        valid = len(checksum) == 8 and int(checksum, 16) == zlib.crc32(payload)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError("the checksum does not match")
    entry = json.loads(payload)
    if not isinstance(entry, dict):
        raise ValueError("the entry is not an object")
    return entry


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Store:
    """The state directory's DynamoDB part: journal appends, reads, snapshots and compaction."""

    def __init__(self, directory: Path, *, sync: bool = True) -> None:
        self.directory = directory
        self.sync = sync
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.segment = max(self._segments(), default=self._snapshot_covers())
        #: Bytes in the segment being appended to (compaction is due when it grows large).
        self.segment_bytes = self.journal_path.stat().st_size if self.journal_path.exists() else 0

    def segment_path(self, number: int) -> Path:
        """The file of journal segment `number`."""
        return self.directory / f"journal-{number:06d}.log"

    @property
    def journal_path(self) -> Path:
        """The segment appends go to."""
        return self.segment_path(self.segment)

    # -- writing ---------------------------------------------------------------------------------
    def append(self, entries: list[dict[str, Any]]) -> None:
        """Append entries durably: written, flushed and fsync'd before this returns."""
        if not entries:
            return
        data = b"".join(encode_line(entry) for entry in entries)
        with self._lock:
            if self._file is None:
                self._file = self.journal_path.open("ab")
            self._file.write(data)
            self._file.flush()
            self.segment_bytes += len(data)
            if self.sync:
                os.fsync(self._file.fileno())

    def rotate(self) -> int:
        """Start a new segment; returns its number (a snapshot taken now covers everything before it)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self.segment += 1
            self.segment_bytes = 0
            return self.segment

    def close(self) -> None:
        """Close the segment file (appends reopen it)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- reading ---------------------------------------------------------------------------------
    def read_journal(self) -> JournalContents:
        """The entries of the segments after the snapshot; reading stops at the first damaged line."""
        contents = JournalContents(entries=[])
        first = self._snapshot_covers()
        for number in sorted(n for n in self._segments() if n >= first):
            path = self.segment_path(number)
            with path.open("rb") as journal:
                for line_number, line in enumerate(journal, start=1):
                    try:
                        contents.entries.append(decode_line(line))
                    except ValueError as error:
                        contents.damaged_file, contents.damaged_at_line = path, line_number
                        contents.problem = str(error)
                        return contents
        return contents

    def set_aside_damaged(self, contents: JournalContents) -> None:
        """Rename the damaged segment and any after it to *.damaged, for inspection, out of replay."""
        if contents.damaged_file is None:
            return
        self.close()
        damaged = int(SEGMENT.fullmatch(contents.damaged_file.name).group(1))  # type: ignore[union-attr]
        for number in self._segments():
            if number >= damaged:
                path = self.segment_path(number)
                os.replace(path, path.with_name(path.name + ".damaged"))

    def read_snapshot(self) -> dict[str, TableImage]:
        """The tables of the current snapshot (none yet: empty); SnapshotError if it is unreadable."""
        snapshot = self._current_snapshot()
        if snapshot is None:
            return {}
        tables: dict[str, TableImage] = {}
        with _readable(snapshot):
            for name, table in self._manifest(snapshot)["tables"].items():
                image = TableImage(create=table["create"], ttl=table.get("ttl"))
                with (snapshot / table["data"]).open("rb") as data:
                    image.items = [json.loads(line)["Item"] for line in data if line.strip()]
                tables[name] = image
        return tables

    # -- compaction ------------------------------------------------------------------------------
    def write_snapshot(self, tables: dict[str, TableImage], covers: int) -> Path:
        """Write a snapshot of the state before segment `covers`, make it current, drop what it covers."""
        name = f"snapshot-{covers:06d}"
        target = self.directory / name
        shutil.rmtree(target, ignore_errors=True)  # a snapshot left half-written by a crash
        self._write_snapshot(target, tables, covers)
        self._replace(self.directory / CURRENT, name.encode())
        for number in self._segments():
            if number < covers:
                self.segment_path(number).unlink(missing_ok=True)
        for old in self.directory.glob("snapshot-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return target

    def _segments(self) -> list[int]:
        return [int(m.group(1)) for p in self.directory.iterdir() if (m := SEGMENT.fullmatch(p.name))]

    def _current_snapshot(self) -> Path | None:
        current = self.directory / CURRENT
        return self.directory / current.read_text().strip() if current.exists() else None

    def _snapshot_covers(self) -> int:
        snapshot = self._current_snapshot()
        if snapshot is None:
            return 1
        with _readable(snapshot):
            return int(self._manifest(snapshot)["journal"])

    @staticmethod
    def _manifest(snapshot: Path) -> dict[str, Any]:
        manifest = json.loads((snapshot / MANIFEST).read_text())
        if not isinstance(manifest, dict):
            raise ValueError("the manifest is not an object")
        return manifest

    def _write_snapshot(self, target: Path, tables: dict[str, TableImage], covers: int) -> None:
        (target / "data").mkdir(parents=True)
        manifest: dict[str, Any] = {"format": "DYNAMODB_JSON", "journal": covers, "tables": {}}
        for number, (name, image) in enumerate(sorted(tables.items())):
            relative = f"data/{number:04d}.json"
            with (target / relative).open("wb") as data:
                data.writelines(_export_lines(image.items))
                data.flush()
                if self.sync:
                    os.fsync(data.fileno())
            manifest["tables"][name] = {"create": image.create, "ttl": image.ttl, "data": relative}
        self._replace(target / MANIFEST, json.dumps(manifest, indent=1).encode())
        if self.sync:
            _fsync_directory(target / "data")
            _fsync_directory(target)

    def _replace(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(path.name + ".tmp")
        with temporary.open("wb") as file:
            file.write(data)
            file.flush()
            if self.sync:
                os.fsync(file.fileno())
        os.replace(temporary, path)
        if self.sync:
            _fsync_directory(path.parent)


class SnapshotError(Exception):
    """The current snapshot cannot be read; the message says which and why."""


@contextlib.contextmanager
def _readable(snapshot: Path) -> Iterator[None]:
    """Turn whatever a damaged snapshot raises into one SnapshotError sentence."""
    try:
        yield
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SnapshotError(
            f"the snapshot {snapshot} cannot be read ({type(error).__name__}: {error}); "
            "restore it, or start with --fresh"
        ) from None


def _export_lines(items: list[dict[str, Any]]) -> Iterator[bytes]:
    for item in items:
        yield json.dumps({"Item": item}, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
