"""Durable local data: per service, an append-only journal of changes and snapshots that fold it in.

Each service that holds data has its own namespace, a directory of the state directory
(`dynamodb/`, `cognito-idp/`, `s3/`...), and a `Store` there. Every line the store writes, journal
entry or snapshot object alike, is prefixed by its own CRC-32, so each is checked alone:
- a journal line with one flipped bit is repaired (CRC-32 locates the bit exactly in a line of up
  to 11 KB; a flipped newline that merges two lines, or splits one, is repaired too);
- any other damaged journal line (several bytes, a write torn by a crash) is set aside: copied to
  `<segment>.damaged` as it was and removed from the segment, so every other entry is replayed and
  the damage is reported once;
- a snapshot is verified as a whole (its manifest holds each data file's size, line count and
  CRC-32) and, if damaged, set aside as `snapshot-<n>.damaged`: the state is rebuilt from the
  previous snapshot and the journal after it, which compaction keeps until a newer snapshot has
  been written and read back. Only when no earlier state is left are a damaged snapshot's readable
  lines used, and what could not be read is reported as lost.

Compaction rotates to a new segment (under the caller's lock, with the state captured at that
instant), writes the snapshot while appends go on, reads it back, makes it current with an atomic
rename of CURRENT, and only then deletes what the previous snapshot no longer needs. A crash at any
point leaves a current snapshot (or none) plus every segment after the one before it.

Every file is created 0600 and every directory 0700: the data (users' password hashes, records)
is the state directory owner's alone.

Layout of a namespace::

    journal-<n>.log                 <crc32 hex> <json entry>\\n ...
    journal-<n>.log.damaged         lines set aside at start-up, as they were, for inspection
    CURRENT                         <crc32 hex> {"snapshot": name, "previous": name, "journal_from": n}
    snapshot-<n>/data/<name>.log    <crc32 hex> <json object>\\n ... (DynamoDB: its export format)
    snapshot-<n>/manifest           <crc32 hex> {"journal": n, "files": {...}, ...the service's own}
    snapshot-<n>.damaged/           a snapshot set aside, kept for inspection

Snapshots written before checksums (`manifest.json`, `data/<name>.json`, CURRENT holding a bare
name) are still read; the next compaction writes the checksummed form.
"""

from __future__ import annotations

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

import orjson

CURRENT = "CURRENT"
MANIFEST = "manifest"
LEGACY_MANIFEST = "manifest.json"
DAMAGED = ".damaged"
SEGMENT = re.compile(r"journal-(\d{6})\.log")
SNAPSHOT = re.compile(r"snapshot-(\d{6})")
#: Files the store creates are its owner's alone.
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
#: Where a line merged with the next by a damaged newline may have its second entry.
_ENTRY_START = re.compile(rb"[0-9a-f]{8} [{]")
#: CRC-32 tells every one-bit error apart (Hamming distance 3) in up to 91,607 bits of data.
MAX_REPAIR_BYTES = 91_607 // 8


# -- lines -------------------------------------------------------------------------------------------
def encode_line(entry: dict[str, Any]) -> bytes:
    """One line: the entry's CRC-32 (hex) and its compact JSON."""
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def decode_line(line: bytes) -> dict[str, Any]:
    """The entry of one line; ValueError if the line is torn or does not match its checksum."""
    if not line.endswith(b"\n"):
        raise ValueError("incomplete: the write was cut short")
    if len(line) < 11 or line[8:9] != b" " or _checksum(line[:8]) != zlib.crc32(line[9:-1]):
        raise ValueError("the checksum does not match")
    return _object(line[9:-1])


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


def repair_line(line: bytes) -> bytes | None:
    """The line as it was written if exactly one of its bits flipped (None: it cannot be repaired).

    A flipped bit in the data is located from the checksum's difference (CRC-32 is linear: the
    difference is the CRC of the error alone, which `_unshift` walks back to the byte it starts
    at); a flipped bit in the checksum digits or in the separator leaves the data intact.
    """
    if not line.endswith(b"\n") or len(line) < 11:
        return None
    payload = line[9:-1]
    actual = b"%08x" % zlib.crc32(payload)
    written = line[:8]
    differences = [(a, b) for a, b in zip(written, actual, strict=True) if a != b]
    if line[8:9] != b" " and not differences and _one_bit(line[8], ord(" ")):
        return actual + b" " + payload + b"\n"
    if line[8:9] == b" " and len(differences) == 1 and _one_bit(*differences[0]):
        return actual + b" " + payload + b"\n"
    stored = _checksum(written)
    if line[8:9] != b" " or stored is None or len(payload) > MAX_REPAIR_BYTES:
        return None
    syndrome = zlib.crc32(payload) ^ stored
    for distance in range(len(payload)):
        bit = _SINGLE_BIT.get(syndrome)
        if bit is not None:
            position = len(payload) - 1 - distance
            fixed = payload[:position] + bytes([payload[position] ^ (1 << bit)]) + payload[position + 1 :]
            return written + b" " + fixed + b"\n"
        syndrome = _unshift(syndrome)
    return None


def _checksum(text: bytes) -> int | None:
    if len(text) != 8 or text.strip(b"0123456789abcdef"):
        return None
    return int(text, 16)


def _object(payload: bytes) -> dict[str, Any]:
    try:
        entry = orjson.loads(payload)  # ~3x the standard library's pace: most of a replay's reading
    except orjson.JSONDecodeError:
        entry = json.loads(payload)  # what orjson refuses and json accepts (NaN, integers over 64 bits)
    if not isinstance(entry, dict):
        raise ValueError("the entry is not an object")
    return entry


def _one_bit(a: int, b: int) -> bool:
    return (a ^ b).bit_count() == 1


def _crc_table() -> list[int]:
    table = []
    for index in range(256):
        value = index
        for _ in range(8):
            value = (value >> 1) ^ (0xEDB88320 if value & 1 else 0)
        table.append(value)
    return table


_TABLE = _crc_table()
#: The top byte of each table entry is distinct: it names the byte a zero byte's step shifted out.
_INDEX_OF_TOP = {value >> 24: index for index, value in enumerate(_TABLE)}
#: The CRC (no initial value, no final xor) of one byte holding one set bit, by that bit.
_SINGLE_BIT = {_TABLE[1 << bit]: bit for bit in range(8)}


def _unshift(register: int) -> int:
    """The CRC register before a zero byte was processed (that step's inverse)."""
    index = _INDEX_OF_TOP[register >> 24]
    return (((register ^ _TABLE[index]) << 8) & 0xFFFFFFFF) | index


@dataclass
class Damage:
    """One line that could not be read (or was repaired), and why."""

    file: Path
    line: int
    problem: str
    #: The line as it was read (set aside lines only).
    raw: bytes = field(default=b"", repr=False)


@dataclass
class _FileRead:
    """The entries of one file of lines, the lines to keep, and what was repaired or set aside."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    kept: list[bytes] = field(default_factory=list)
    damaged: list[Damage] = field(default_factory=list)
    repaired: list[Damage] = field(default_factory=list)


def _split(data: bytes) -> list[bytes]:
    """Lines, each with its newline (a last line without one is a torn write)."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _read_lines(path: Path, data: bytes, *, repair: bool) -> _FileRead:
    """Every line of a file decoded; with `repair`, lines with one flipped bit are repaired."""
    read = _FileRead()
    lines = _split(data)
    crc32 = zlib.crc32
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        try:  # the common case first, inline: a whole line whose checksum matches
            if line[8:9] == b" " and line[-1:] == b"\n" and int(line[:8], 16) == crc32(line[9:-1]):
                read.entries.append(_object(line[9:-1]))
                read.kept.append(line)
                continue
        except ValueError:
            pass
        try:
            decoded = decode_lines(line)
        except ValueError as error:
            fixed, used = (
                (_repair(line, lines[number] if number < len(lines) else None)) if repair else (None, 0)
            )
            if fixed is None:
                read.damaged.append(Damage(path, number, str(error), line))
                continue
            read.repaired.append(Damage(path, number, "one flipped bit"))
            number += used
            read.entries.append(decode_line(fixed))
            read.kept.append(fixed)
            continue
        read.entries.extend(decoded)
        if len(decoded) > 1:  # a damaged newline: the lines are written apart again
            read.repaired.append(Damage(path, number, "one flipped bit in a newline"))
            read.kept.extend(encode_line(entry) for entry in decoded)
        else:
            read.kept.append(line)
    return read


def _repair(line: bytes, following: bytes | None) -> tuple[bytes | None, int]:
    """(the repaired line, how many following lines it took in), or (None, 0)."""
    fixed = repair_line(line)
    if fixed is not None:
        return fixed, 0
    if following is not None and line.endswith(b"\n"):
        # A byte flipped into a newline split one line in two: try the bytes it may have been.
        for bit in range(8):
            joined = line[:-1] + bytes([ord("\n") ^ (1 << bit)]) + following
            try:
                decode_line(joined)
            except ValueError:
                continue
            return joined, 1
    return None, 0


@dataclass
class JournalContents:
    """The entries read back, in order, the lines that were set aside and those repaired."""

    entries: list[dict[str, Any]]
    damaged: list[Damage] = field(default_factory=list)
    repaired: list[Damage] = field(default_factory=list)

    def describe_damage(self) -> str:
        """One sentence on what was set aside (empty when nothing was)."""
        if not self.damaged:
            return ""
        return (
            f"{len(self.damaged)} damaged journal line(s) set aside ({_where(self.damaged)}; "
            f"copied to <segment>{DAMAGED}); the other {len(self.entries)} entries are kept"
        )

    def describe_repairs(self) -> str:
        """One sentence on the lines repaired (empty when none was)."""
        if not self.repaired:
            return ""
        return f"{len(self.repaired)} journal line(s) with one flipped bit repaired ({_where(self.repaired)})"


def _where(found: list[Damage]) -> str:
    where = ", ".join(f"{d.file.name} line {d.line} ({d.problem})" for d in found[:3])
    return where + (f" and {len(found) - 3} more" if len(found) > 3 else "")


# -- snapshots ---------------------------------------------------------------------------------------
class SnapshotError(Exception):
    """A snapshot cannot be read or written; the message says which and why."""


@dataclass
class Snapshot:
    """A snapshot read back and verified: the service's manifest and the objects of each data file."""

    path: Path
    manifest: dict[str, Any]
    data: dict[str, list[dict[str, Any]]]

    @property
    def covers(self) -> int:
        """The first journal segment after it."""
        return int(self.manifest["journal"])

    def read(self, name: str) -> list[dict[str, Any]]:
        """The objects of data file `name`."""
        return self.data.get(name, [])


@dataclass
class Recovered:
    """What a namespace holds, read back at start: its snapshot (if any), the journal after it, and
    one sentence per thing repaired or set aside (for the banner)."""

    snapshot: Snapshot | None
    journal: JournalContents
    notes: list[str] = field(default_factory=list)
    #: Whether a new snapshot should be written (the journal is long, the snapshot was set aside or
    #: is of the old format).
    compact: bool = False


def _snapshot_number(path: Path) -> int | None:
    match = SNAPSHOT.fullmatch(path.name)
    return int(match.group(1)) if match else None


def _read_snapshot(path: Path, *, partial: bool = False) -> tuple[Snapshot, list[Damage]]:
    """A snapshot verified whole (SnapshotError if damaged), or with `partial` its readable lines and
    the damage found (SnapshotError only if its manifest cannot be read)."""
    if (path / LEGACY_MANIFEST).exists() and not (path / MANIFEST).exists():
        return _read_legacy_snapshot(path), []
    try:
        manifest = decode_line((path / MANIFEST).read_bytes())
        files = manifest["files"]
        int(manifest["journal"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SnapshotError(f"its manifest cannot be read ({_reason(error)})") from None
    data: dict[str, list[dict[str, Any]]] = {}
    damage: list[Damage] = []
    for name, expected in files.items():
        file = path / "data" / f"{name}.log"
        try:
            raw = file.read_bytes()
        except OSError as error:
            if not partial:
                raise SnapshotError(f"data/{file.name} cannot be read ({_reason(error)})") from None
            damage.append(Damage(file, 0, _reason(error)))
            continue
        whole = zlib.crc32(raw) == expected["crc32"] and len(raw) == expected["bytes"]
        if whole:
            try:
                data[name] = [_object(line[9:]) for line in raw.split(b"\n")[:-1]]
                continue
            except ValueError:
                pass
        read = _read_lines(file, raw, repair=partial)
        found = list(read.damaged)
        if len(read.entries) + len(found) < expected["lines"]:
            found.append(
                Damage(file, 0, f"{expected['lines'] - len(read.entries) - len(found)} line(s) missing")
            )
        if not partial:
            first = found[0] if found else Damage(file, 0, "its checksum does not match")
            where = f" line {first.line:,}" if first.line else ""
            raise SnapshotError(f"data/{file.name}{where}: {first.problem}")
        data[name] = read.entries
        damage.extend(found)
    return Snapshot(path, manifest, data), damage


def _unverified(path: Path) -> str | None:
    """What is wrong with a snapshot's files (None: its manifest reads, and each data file has the
    size and CRC-32 the manifest gives)."""
    try:
        files = decode_line((path / MANIFEST).read_bytes())["files"]
        for name, expected in files.items():
            raw = (path / "data" / f"{name}.log").read_bytes()
            if len(raw) != expected["bytes"] or zlib.crc32(raw) != expected["crc32"]:
                return f"data/{name}.log is not what was written"
    except (OSError, ValueError, KeyError, TypeError) as error:
        return _reason(error)
    return None


def _read_legacy_snapshot(path: Path) -> Snapshot:
    """A snapshot of the format before checksums (nothing to verify it against but its syntax)."""
    try:
        manifest = json.loads((path / LEGACY_MANIFEST).read_text())
        if not isinstance(manifest, dict):
            raise ValueError("the manifest is not an object")
        int(manifest["journal"])
        data = {}
        for file in (path / "data").glob("*.json"):
            with file.open("rb") as lines:
                data[file.stem] = [_object(line) for line in lines if line.strip()]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SnapshotError(_reason(error)) from None
    return Snapshot(path, manifest, data)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    if isinstance(error, KeyError):
        return f"{error} is missing"
    return str(error) or type(error).__name__


# -- the store ---------------------------------------------------------------------------------------
def private_opener(path: str, flags: int) -> int:
    """`open(..., opener=private_opener)`: a file created readable by its owner only."""
    return os.open(path, flags, FILE_MODE)


def write_private(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write `data` to `path` atomically (a crash leaves the old file or the new), mode 0600."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb", opener=private_opener) as file:
        file.write(data)
        file.flush()
        if sync:
            os.fsync(file.fileno())
    os.chmod(temporary, FILE_MODE)  # an older file of that name may have been wider
    os.replace(temporary, path)
    if sync:
        _fsync_directory(path.parent)


def private_directory(path: Path) -> None:
    """Create `path` (and its parents) owner-only. If it exists and others may read it (an older
    version made it so), it and everything in it become owner-only."""
    for missing in reversed([p for p in (path, *path.parents) if not p.exists()]):
        missing.mkdir(mode=DIRECTORY_MODE, exist_ok=True)  # parents too (mkdir's mode is the last's alone)
    if not path.stat().st_mode & 0o077:
        return
    for root, directories, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(root, name), FILE_MODE, follow_symlinks=False)
        for name in directories:
            os.chmod(os.path.join(root, name), DIRECTORY_MODE, follow_symlinks=False)
    path.chmod(DIRECTORY_MODE)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class Store:
    """One namespace of the state directory: recovery, journal appends, snapshots and compaction."""

    def __init__(self, directory: Path, *, sync: bool = True) -> None:
        self.directory = directory
        self.sync = sync
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        private_directory(directory)
        snapshots = [n for p in directory.iterdir() if (n := _snapshot_number(p)) is not None]
        # Past every segment and every snapshot's coverage: segments a snapshot covers may be kept
        # (for the fallback), but nothing is appended to them.
        self.segment = max([*self._segments(), *snapshots, 1])
        #: Bytes in the segment being appended to (compaction is due when it grows large).
        self.segment_bytes = self.journal_path.stat().st_size if self.journal_path.exists() else 0
        #: The snapshot the state was loaded from (the next compaction keeps it as the previous one).
        self.loaded: Path | None = None
        #: The first segment kept: the state can be rebuilt from it when no snapshot is loaded.
        self.journal_from = 1

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
                self._file = open(self.journal_path, "ab", opener=private_opener)  # noqa: SIM115
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
    def recover(self) -> Recovered:
        """Read back the state at start: a verified snapshot (falling back past damaged ones), the
        journal after it with one-bit errors repaired and other damaged lines set aside.

        Damaged lines leave their segment (copied to `<segment>.damaged`), repaired ones are written
        back repaired, damaged snapshots are renamed `snapshot-<n>.damaged`: each is reported once.
        """
        notes: list[str] = []
        snapshot, journal_from = self._recover_snapshot(notes)
        first = snapshot.covers if snapshot is not None else journal_from
        journal = JournalContents(entries=[])
        for number in sorted(n for n in self._segments() if n >= first):
            path = self.segment_path(number)
            read = _read_lines(path, path.read_bytes(), repair=True)
            journal.entries.extend(read.entries)
            journal.damaged.extend(read.damaged)
            journal.repaired.extend(read.repaired)
            if read.damaged or read.repaired:
                self._set_aside(path, read)
        notes.extend(note for note in (journal.describe_repairs(), journal.describe_damage()) if note)
        partial = snapshot is not None and snapshot.path.name.endswith(DAMAGED)
        self.loaded = None if snapshot is None or partial else snapshot.path
        self.journal_from = max(journal_from, snapshot.covers) if partial and snapshot else journal_from
        legacy = snapshot is not None and (snapshot.path / LEGACY_MANIFEST).exists()
        compact = bool(journal.entries or journal.damaged or journal.repaired or notes or legacy)
        return Recovered(snapshot, journal, notes, compact)

    def read_journal(self) -> JournalContents:
        """Every valid entry of the segments after the current snapshot, read as they are (no repair,
        nothing set aside)."""
        contents = JournalContents(entries=[])
        covers = self._current().get("covers", 1)
        for number in sorted(n for n in self._segments() if n >= covers):
            path = self.segment_path(number)
            read = _read_lines(path, path.read_bytes(), repair=False)
            contents.entries.extend(read.entries)
            contents.damaged.extend(read.damaged)
        return contents

    def _set_aside(self, path: Path, read: _FileRead) -> None:
        """Copy a segment's damaged lines to `<segment>.damaged`, then rewrite it without them (and
        with its repaired lines as they were written)."""
        if read.damaged:
            with open(path.with_name(path.name + DAMAGED), "ab", opener=private_opener) as aside:
                aside.writelines(damage.raw for damage in read.damaged)
                aside.flush()
                if self.sync:
                    os.fsync(aside.fileno())
        write_private(path, b"".join(read.kept), sync=self.sync)
        if path == self.journal_path:
            self.segment_bytes = path.stat().st_size

    def _current(self) -> dict[str, Any]:
        """CURRENT: {"snapshot", "previous", "journal_from", "covers"} ({} without one; "damaged" if
        it cannot be read). An older CURRENT holds a bare snapshot name."""
        path = self.directory / CURRENT
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            return {"damaged": _reason(error)}
        try:
            current = decode_line(raw) if raw[8:9] == b" " else {"snapshot": raw.decode().strip()}
            name = str(current["snapshot"])
            number = _snapshot_number(Path(name))
            if number is None:
                raise ValueError(f"{name!r} is not a snapshot")
        except (ValueError, KeyError, UnicodeDecodeError) as error:
            return {"damaged": _reason(error)}
        return {**current, "covers": number, "journal_from": int(current.get("journal_from", 1))}

    def _recover_snapshot(self, notes: list[str]) -> tuple[Snapshot | None, int]:
        """The newest snapshot that verifies (damaged ones set aside), and the first segment kept."""
        current = self._current()
        if "damaged" in current:
            notes.append(
                f"{CURRENT} cannot be read ({current['damaged']}): the newest snapshot that verifies is used"
            )
        by_number = []
        for number, path in sorted(
            ((n, p) for p in self.directory.iterdir() if (n := _snapshot_number(p)) is not None), reverse=True
        ):
            if (path / MANIFEST).exists() or (path / LEGACY_MANIFEST).exists():
                by_number.append((number, path))
            else:  # the manifest is written last: a compaction cut short, never current
                shutil.rmtree(path, ignore_errors=True)
        # Segments below this are gone (compaction keeps what its previous snapshot needs). None is
        # deleted before CURRENT names the snapshot that covers it: without CURRENT, nothing was.
        journal_from = current.get("journal_from") or 1
        if "damaged" in current:
            journal_from = min((n for n, _ in by_number), default=min(self._segments(), default=1))
        set_aside: list[tuple[Path, str]] = []
        for number, path in by_number:
            if number < journal_from:
                continue  # the segments after it are gone: not a state to rebuild from
            try:
                snapshot, _ = _read_snapshot(path)
            except SnapshotError as error:
                aside = path.with_name(path.name + DAMAGED)
                shutil.rmtree(aside, ignore_errors=True)
                path.rename(aside)
                set_aside.append((aside, str(error)))
                continue
            if set_aside:
                notes.append(_fallback_note(set_aside, f"{path.name} and the journal after it"))
            return snapshot, journal_from
        if journal_from <= 1:  # no segment was ever dropped: the journal alone rebuilds everything
            if set_aside:
                notes.append(_fallback_note(set_aside, "the whole journal, which is still kept"))
            return None, 1
        # The journal alone cannot rebuild the state: the newest damaged snapshot's readable lines are
        # used (those set aside now, or at an earlier start before a new snapshot could be written).
        reasons = dict(set_aside)
        for path in sorted(self.directory.glob(f"snapshot-*{DAMAGED}"), reverse=True):
            covers = _snapshot_number(path.with_name(path.name.removesuffix(DAMAGED)))
            if covers is None or covers < journal_from:
                continue
            try:
                snapshot, lost = _read_snapshot(path, partial=True)
            except SnapshotError:
                continue
            notes.append(
                f"the snapshot {path.name.removesuffix(DAMAGED)} is damaged "
                f"({reasons.get(path, 'it was set aside at an earlier start')}) and no earlier state is "
                f"left to rebuild from: its readable lines are loaded, what could not be read is lost "
                f"({_where(lost) if lost else 'nothing'}); it is kept as {path.name}"
            )
            return snapshot, journal_from
        notes.append(
            f"no snapshot can be read{' (' + '; '.join(reasons.values()) + ')' if reasons else ''} and "
            f"the journal before segment {journal_from} was dropped by an earlier compaction: only the "
            "journal after it is loaded"
        )
        return None, journal_from

    # -- compaction ------------------------------------------------------------------------------
    def write_snapshot(
        self, manifest: dict[str, Any], data: dict[str, Iterable[dict[str, Any]]], covers: int
    ) -> Path:
        """Write a snapshot of the state before segment `covers`, read it back, make it current, then
        drop what the snapshot it follows no longer needs. SnapshotError if it does not read back."""
        name = f"snapshot-{covers:06d}"
        target = self.directory / name
        shutil.rmtree(target, ignore_errors=True)  # a snapshot left half-written by a crash
        private_directory(target)
        private_directory(target / "data")
        files: dict[str, dict[str, int]] = {}
        for file_name, objects in data.items():
            with open(target / "data" / f"{file_name}.log", "wb", opener=private_opener) as out:
                crc, size, lines = 0, 0, 0
                for line in _lines(objects):
                    out.write(line)
                    crc, size, lines = zlib.crc32(line, crc), size + len(line), lines + 1
                out.flush()
                if self.sync:
                    os.fsync(out.fileno())
            files[file_name] = {"lines": lines, "bytes": size, "crc32": crc}
        write_private(
            target / MANIFEST, encode_line({**manifest, "journal": covers, "files": files}), sync=self.sync
        )
        if self.sync:
            _fsync_directory(target / "data")
            _fsync_directory(target)
        problem = _unverified(target)
        if problem is not None:
            shutil.rmtree(target, ignore_errors=True)
            raise SnapshotError(f"the snapshot {name} did not read back as written: {problem}")
        previous = self.loaded if self.loaded is not None and self.loaded.is_dir() else None
        journal_from = _snapshot_number(previous) or 1 if previous is not None else self.journal_from
        current = {
            "snapshot": name,
            "previous": previous.name if previous else None,
            "journal_from": journal_from,
        }
        write_private(self.directory / CURRENT, encode_line(current), sync=self.sync)
        self.loaded, self.journal_from = target, journal_from
        for number in self._segments():
            if number < journal_from:
                self.segment_path(number).unlink(missing_ok=True)
        for old in self.directory.iterdir():
            if _snapshot_number(old) is not None and old not in (target, previous):
                shutil.rmtree(old, ignore_errors=True)
        return target

    def _segments(self) -> list[int]:
        return [int(m.group(1)) for p in self.directory.iterdir() if (m := SEGMENT.fullmatch(p.name))]


def _fallback_note(set_aside: list[tuple[Path, str]], source: str) -> str:
    names = " and ".join(path.name.removesuffix(DAMAGED) for path, _ in set_aside)
    reasons = "; ".join(reason for _, reason in set_aside)
    kept = " and ".join(path.name for path, _ in set_aside)
    return (
        f"the snapshot {names} is damaged ({reasons}); the state was rebuilt from {source} instead, "
        f"so nothing is lost (the damaged one is kept as {kept})"
    )


def _lines(objects: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for value in objects:
        yield encode_line(value)
