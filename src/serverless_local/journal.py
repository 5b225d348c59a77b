"""Durable local data: per service, an append-only journal of changes and snapshots that fold it in.

Each service that holds data has its own namespace, a directory of the state directory
(`dynamodb/`, later `cognito-idp/`, `s3/`...), and a `Store` there. The journal holds one JSON entry
per line, each prefixed by its own CRC-32, so each entry is checked alone: a damaged line (a flipped
byte, a write torn by a crash) is set aside and every other entry is replayed. A flipped newline
that merges two lines is recognised and both entries are kept.

The journal is a series of numbered segments. Compaction rotates to a new segment (under the
caller's lock, with the state captured at that instant), then writes the snapshot while appends go
on, makes it current with an atomic rename, and deletes the segments it covers. A crash at any point
leaves a current snapshot plus the segments after it.

Layout of a namespace::

    journal-<n>.log                 <crc32 hex> <json entry>\\n ...
    journal-<n>.log.damaged         lines set aside at start-up, as they were, for inspection
    CURRENT                         name of the current snapshot directory
    snapshot-<n>/manifest.json      the service's own description; "journal": first segment after it
    snapshot-<n>/data/<name>.json   one JSON object per line (DynamoDB: its export format)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
SEGMENT = re.compile(r"journal-(\d{6})\.log")
#: Where a line merged with the next by a damaged newline may have its second entry.
_ENTRY_START = re.compile(rb"[0-9a-f]{8} [{]")


@dataclass
class Damage:
    """One line of a journal that could not be read, and why."""

    file: Path
    line: int
    problem: str


@dataclass
class JournalContents:
    """The entries read back, in order, and the lines that were set aside."""

    entries: list[dict[str, Any]]
    damaged: list[Damage] = field(default_factory=list)

    def describe_damage(self) -> str:
        """One sentence on what was set aside (empty when nothing was)."""
        if not self.damaged:
            return ""
        where = ", ".join(f"{d.file.name} line {d.line} ({d.problem})" for d in self.damaged[:3])
        more = f" and {len(self.damaged) - 3} more" if len(self.damaged) > 3 else ""
        return (
            f"{len(self.damaged)} damaged journal line(s) set aside: {where}{more}; "
            f"the other {len(self.entries)} entries are kept"
        )


def encode_line(entry: dict[str, Any]) -> bytes:
    """One journal line: the entry's CRC-32 (hex) and its compact JSON."""
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode_line(line: bytes) -> dict[str, Any]:
    """The entry of one line; ValueError if the line is torn or does not match its checksum."""
    if not line.endswith(b"\n"):
        raise ValueError("incomplete: the write was cut short")
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


def decode_lines(line: bytes) -> list[dict[str, Any]]:
    """The entries of a line, which may be two lines whose newline was damaged; ValueError otherwise."""
    try:
        return [decode_line(line)]
    except ValueError as error:
        for match in _ENTRY_START.finditer(line, 1):
            start = match.start()
            try:
                first = decode_line(line[: start - 1] + b"\n")
                return [first, *decode_lines(line[start:])]
            except ValueError:
                continue
        raise error from None


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class Snapshot:
    """The current snapshot: the service's manifest and its data files."""

    path: Path
    manifest: dict[str, Any]

    def read(self, name: str) -> list[dict[str, Any]]:
        """The objects of data file `name`."""
        with _readable(self.path), (self.path / "data" / f"{name}.json").open("rb") as data:
            return [json.loads(line) for line in data if line.strip()]


class Store:
    """One namespace of the state directory: journal appends, reads, snapshots and compaction."""

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
        """Every valid entry of the segments after the snapshot; damaged lines are listed, not read."""
        contents = JournalContents(entries=[])
        first = self._snapshot_covers()
        for number in sorted(n for n in self._segments() if n >= first):
            path = self.segment_path(number)
            with path.open("rb") as journal:
                for line_number, line in enumerate(journal, start=1):
                    try:
                        contents.entries.extend(decode_lines(line))
                    except ValueError as error:
                        contents.damaged.append(Damage(path, line_number, str(error)))
        return contents

    def set_aside(self, contents: JournalContents) -> None:
        """Copy the damaged lines to `<segment>.damaged` and append to a new segment from now on.

        The damaged segments stay in place until a snapshot covers them (their valid entries are
        replayed until then); a new segment keeps appends away from a torn last line.
        """
        if not contents.damaged:
            return
        by_file: dict[Path, set[int]] = {}
        for damage in contents.damaged:
            by_file.setdefault(damage.file, set()).add(damage.line)
        for path, numbers in by_file.items():
            with path.open("rb") as journal, path.with_name(path.name + ".damaged").open("ab") as aside:
                aside.writelines(line for n, line in enumerate(journal, start=1) if n in numbers)
        self.rotate()

    def read_snapshot(self) -> Snapshot | None:
        """The current snapshot, or None; SnapshotError if it cannot be read."""
        path = self._current_snapshot()
        if path is None:
            return None
        with _readable(path):
            return Snapshot(path, self._manifest(path))

    # -- compaction ------------------------------------------------------------------------------
    def write_snapshot(
        self, manifest: dict[str, Any], data: dict[str, Iterable[dict[str, Any]]], covers: int
    ) -> Path:
        """Write a snapshot of the state before segment `covers`, make it current, drop what it covers."""
        name = f"snapshot-{covers:06d}"
        target = self.directory / name
        shutil.rmtree(target, ignore_errors=True)  # a snapshot left half-written by a crash
        (target / "data").mkdir(parents=True)
        for file_name, objects in data.items():
            with (target / "data" / f"{file_name}.json").open("wb") as out:
                out.writelines(_lines(objects))
                out.flush()
                if self.sync:
                    os.fsync(out.fileno())
        self._replace(target / MANIFEST, json.dumps({**manifest, "journal": covers}, indent=1).encode())
        if self.sync:
            _fsync_directory(target / "data")
            _fsync_directory(target)
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


def _lines(objects: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for value in objects:
        yield json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
