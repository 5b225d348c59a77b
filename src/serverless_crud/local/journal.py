"""Durable local data: an append-only journal of DynamoDB changes and snapshots in DynamoDB's export format.

The journal holds one JSON entry per line, each prefixed by its CRC-32, so a torn or corrupted tail
is detected and everything before it is kept. Entries describe states, not requests (the item as it
is after the write, a table as created), so replaying them is deterministic, and replaying a journal
over a snapshot taken at its end yields the same state: compaction can be interrupted anywhere.

Layout of the state directory::

    dynamodb/journal.log              <crc32 hex> <json entry>\\n ...
    dynamodb/CURRENT                  name of the current snapshot directory
    dynamodb/snapshot-<n>/manifest.json     tables: CreateTable parameters and TTL
    dynamodb/snapshot-<n>/data/<table>.json  one {"Item": {...}} per line (DynamoDB JSON export)
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

JOURNAL = "journal.log"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"


@dataclass
class TableImage:
    """One table in a snapshot: how to create it, its TTL setting, and its items (DynamoDB JSON)."""

    create: dict[str, Any]
    ttl: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class JournalContents:
    """The entries read back, and what was wrong with the tail if anything."""

    entries: list[dict[str, Any]]
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
    if len(checksum) != 8 or int(checksum, 16) != zlib.crc32(payload):
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

    @property
    def journal_path(self) -> Path:
        """Where the journal lives."""
        return self.directory / JOURNAL

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
            if self.sync:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the journal file (appends reopen it)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    # -- reading ---------------------------------------------------------------------------------
    def read_journal(self) -> JournalContents:
        """Every intact entry; reading stops at the first damaged line, which is reported."""
        contents = JournalContents(entries=[])
        if not self.journal_path.exists():
            return contents
        with self.journal_path.open("rb") as journal:
            for number, line in enumerate(journal, start=1):
                try:
                    contents.entries.append(decode_line(line))
                except ValueError as error:
                    contents.damaged_at_line, contents.problem = number, str(error)
                    break
        return contents

    def read_snapshot(self) -> dict[str, TableImage]:
        """The tables of the current snapshot (none if there is no snapshot yet)."""
        current = self.directory / CURRENT
        if not current.exists():
            return {}
        snapshot = self.directory / current.read_text().strip()
        manifest = json.loads((snapshot / MANIFEST).read_text())
        tables: dict[str, TableImage] = {}
        for name, table in manifest["tables"].items():
            image = TableImage(create=table["create"], ttl=table.get("ttl"))
            with (snapshot / table["data"]).open("rb") as data:
                image.items = [json.loads(line)["Item"] for line in data if line.strip()]
            tables[name] = image
        return tables

    # -- compaction ------------------------------------------------------------------------------
    def compact(self, tables: dict[str, TableImage], *, damaged_journal: bool = False) -> Path:
        """Write a snapshot of `tables`, make it current, and start an empty journal.

        The snapshot becomes current (an atomic rename of CURRENT) before the journal is emptied, so a
        crash at any point leaves a snapshot plus a journal that replays to the same state. A damaged
        journal is kept beside the snapshot for inspection rather than deleted.
        """
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            name = f"snapshot-{self._next_generation():06d}"
            self._write_snapshot(self.directory / name, tables)
            self._replace(self.directory / CURRENT, name.encode())
            if damaged_journal and self.journal_path.exists():
                os.replace(self.journal_path, self.directory / f"{JOURNAL}.damaged-{name}")
            self._replace(self.journal_path, b"")
            for old in self.directory.glob("snapshot-*"):
                if old.name != name:
                    shutil.rmtree(old, ignore_errors=True)
            return self.directory / name

    def _next_generation(self) -> int:
        generations = [int(p.name.split("-")[1]) for p in self.directory.glob("snapshot-*") if p.is_dir()]
        return max(generations, default=0) + 1

    def _write_snapshot(self, target: Path, tables: dict[str, TableImage]) -> None:
        (target / "data").mkdir(parents=True)
        manifest: dict[str, Any] = {"format": "DYNAMODB_JSON", "tables": {}}
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


def _export_lines(items: list[dict[str, Any]]) -> Iterator[bytes]:
    for item in items:
        yield json.dumps({"Item": item}, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
