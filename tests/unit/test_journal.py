"""The journal and snapshots of one namespace of the state directory: checksums, repair, set-aside,
snapshot verification and fallback, retention, file modes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from serverless_local.journal import (
    Store,
    decode_line,
    decode_lines,
    encode_line,
    repair_line,
)


def put(key, value="v"):
    return {"op": "put", "table": "t", "item": {"k": {"S": key}, "v": {"S": value}}}


def written(tmp_path, *entries):
    store = Store(tmp_path)
    store.append(list(entries))
    store.close()
    return store, store.journal_path.read_bytes().splitlines(keepends=True)


def keys(entries):
    return [entry["item"]["k"]["S"] for entry in entries]


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


# -- lines ------------------------------------------------------------------------------------------
def test_entries_read_back_in_order(tmp_path):
    store = Store(tmp_path, sync=False)
    store.append([put("a"), put("b")])
    store.append([put("c", "ü")])
    store.close()

    assert Store(tmp_path).recover().journal.entries == [put("a"), put("b"), put("c", "ü")]


def test_decode_rejects_what_encode_did_not_write():
    assert decode_line(encode_line(put("a"))) == put("a")
    for bad in (b"zzzzzzzz {}\n", b"\n", b"00000000 []\n", b"ABCDEF01 {}\n"):
        with pytest.raises(ValueError, match=r"checksum|incomplete|object"):
            decode_line(bad)


def test_every_single_flipped_bit_of_a_line_is_repaired_exactly():
    line = encode_line(put("JJ**ŋé" * 20, "x" * 300))
    for position in range(len(line) - 1):  # the newline's own flips merge lines: tested below
        for bit in range(8):
            assert repair_line(flip(line, position, 1 << bit)) == line, (position, bit)


def test_two_flipped_bits_are_not_repaired():
    line = encode_line(put("a" * 100))
    assert repair_line(flip(flip(line, 30), 60)) is None
    assert repair_line(flip(line, 30, 0x03)) is None
    assert repair_line(line[:-1]) is None  # a torn line is not "repaired" into anything


def test_two_lines_merged_by_a_damaged_newline_are_both_read():
    first, second = encode_line(put("a")), encode_line(put("b"))

    assert decode_lines(first[:-1] + b"\x0b" + second) == [put("a"), put("b")]


def test_a_flipped_bit_anywhere_in_a_segment_is_repaired_and_written_back(tmp_path):
    store, lines = written(tmp_path, put("a"), put("J*"), put("c"))
    data = b"".join(lines)
    split_at = data.index(b"J*")  # 'J' ^ 0x40 is a newline: the line is split in two
    cases = [
        flip(data, len(lines[0]) + 20),  # a bit of the data
        flip(data, len(lines[0]) + 3),  # a digit of the checksum
        flip(data, len(lines[0]) + 8),  # the separator
        flip(data, len(lines[0]) - 1, 0x20),  # the newline: two lines merged
        flip(data, split_at, 0x40),  # a newline born in the data: one line split
    ]
    for damaged in cases:
        store.journal_path.write_bytes(damaged)
        recovered = Store(tmp_path).recover()

        assert keys(recovered.journal.entries) == ["a", "J*", "c"]
        assert recovered.journal.damaged == []
        assert len(recovered.journal.repaired) == 1
        assert recovered.notes == [recovered.journal.describe_repairs()]
        assert "1 journal line(s) with one flipped bit repaired" in recovered.notes[0]
        assert store.journal_path.read_bytes() == data  # written back as it was written
        assert Store(tmp_path).recover().notes == []  # reported once


def test_a_torn_last_line_is_set_aside_once_and_the_lines_before_it_kept(tmp_path):
    store, lines = written(tmp_path, put("a"), put("b"))
    torn = encode_line(put("c"))[:-5]
    with store.journal_path.open("ab") as journal:
        journal.write(torn)

    recovered = Store(tmp_path).recover()

    assert keys(recovered.journal.entries) == ["a", "b"]
    assert [(d.line, d.problem.split(":")[0]) for d in recovered.journal.damaged] == [(3, "incomplete")]
    assert (tmp_path / "journal-000001.log.damaged").read_bytes() == torn
    assert store.journal_path.read_bytes() == b"".join(lines)
    again = Store(tmp_path)
    assert again.recover().notes == []  # the segment no longer holds it: not reported again
    again.append([put("d")])  # appends go on after the lines kept
    assert keys(Store(tmp_path).recover().journal.entries) == ["a", "b", "d"]


def test_a_line_damaged_beyond_repair_costs_only_its_own_entry(tmp_path):
    store, lines = written(tmp_path, put("a"), put("b"), put("c"), put("d"))
    lines[1] = lines[1].replace(b'"b"', b'"x"').replace(b'"v"', b'"w"')
    store.journal_path.write_bytes(b"".join(lines))

    recovered = Store(tmp_path).recover()

    assert keys(recovered.journal.entries) == ["a", "c", "d"]
    assert [(d.line, d.problem) for d in recovered.journal.damaged] == [(2, "the checksum does not match")]
    assert "1 damaged journal line(s) set aside (journal-000001.log line 2" in recovered.notes[0]
    assert "the other 3 entries are kept" in recovered.notes[0]
    assert (tmp_path / "journal-000001.log.damaged").read_bytes() == lines[1]


# -- snapshots --------------------------------------------------------------------------------------
def snapshot_of(store, *objects):
    covers = store.rotate()
    return store.write_snapshot({"tables": {"t": {"data": "0000"}}}, {"0000": list(objects)}, covers)


def test_a_snapshot_holds_the_services_manifest_and_data_and_covers_the_segments_before_it(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    snapshot = snapshot_of(store, {"Item": {"k": 1}})
    store.append([put("b")])
    store.close()

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is not None
    assert recovered.snapshot.path == snapshot
    assert recovered.snapshot.manifest["tables"] == {"t": {"data": "0000"}}
    assert recovered.snapshot.read("0000") == [{"Item": {"k": 1}}]
    assert recovered.journal.entries == [put("b")]
    assert [decode_line(line) for line in (snapshot / "data" / "0000.log").read_bytes().splitlines(True)] == [
        {"Item": {"k": 1}}
    ]
    assert recovered.notes == []


def test_a_snapshot_that_never_became_current_changes_nothing(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    covers = store.rotate()
    store.append([put("b")])
    store.close()
    (tmp_path / f"snapshot-{covers:06d}" / "data").mkdir(parents=True)  # the process died writing it

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is None
    assert keys(recovered.journal.entries) == ["a", "b"]
    assert recovered.notes == []
    assert not (tmp_path / f"snapshot-{covers:06d}").exists()


def test_the_previous_snapshot_and_the_journal_after_it_are_kept_until_a_newer_one_is_written(tmp_path):
    store = Store(tmp_path)
    segments = []
    for number in range(4):
        store.append([put(f"k{number}")])
        segments.append(store.segment)
        snapshot_of(store, {"n": number})

    snapshots = sorted(p.name for p in tmp_path.glob("snapshot-*"))
    assert snapshots == [f"snapshot-{segments[2] + 1:06d}", f"snapshot-{segments[3] + 1:06d}"]
    kept = sorted(p.name for p in tmp_path.glob("journal-*.log"))
    assert kept == [f"journal-{segments[3]:06d}.log"]  # the previous snapshot covers those before it
    current = decode_line((tmp_path / "CURRENT").read_bytes())
    assert current == {"snapshot": snapshots[1], "previous": snapshots[0], "journal_from": segments[2] + 1}


@pytest.mark.parametrize(
    "damage",
    ["value", "structure", "manifest", "truncated", "missing-file"],
)
def test_a_damaged_snapshot_falls_back_to_the_previous_one_and_the_journal(tmp_path, damage):
    store = Store(tmp_path)
    store.append([put("a")])
    snapshot_of(store, {"Item": "a"})
    store.append([put("b")])
    newest = snapshot_of(store, {"Item": "a"}, {"Item": "b"})
    store.append([put("c")])
    store.close()
    data = newest / "data" / "0000.log"
    raw = data.read_bytes()
    if damage == "value":
        data.write_bytes(raw.replace(b'"b"', b'"B"'))
    elif damage == "structure":
        data.write_bytes(raw.replace(b"}", b"]", 1))
    elif damage == "manifest":
        (newest / "manifest").write_bytes(flip((newest / "manifest").read_bytes(), 30, 0xFF))
    elif damage == "truncated":
        data.write_bytes(raw[: len(raw) // 2])
    else:
        data.unlink()

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is not None
    assert recovered.snapshot.read("0000") == [{"Item": "a"}]
    assert keys(recovered.journal.entries) == ["b", "c"]  # the journal after the previous snapshot
    assert len(recovered.notes) == 1
    assert f"the snapshot {newest.name} is damaged" in recovered.notes[0]
    assert "nothing is lost" in recovered.notes[0]
    assert (tmp_path / f"{newest.name}.damaged").is_dir()
    assert recovered.compact


def test_the_first_snapshot_damaged_falls_back_to_the_whole_journal(tmp_path):
    store = Store(tmp_path)
    store.append([put("a"), put("b")])
    only = snapshot_of(store, {"Item": "a"}, {"Item": "b"})
    store.append([put("c")])
    store.close()
    data = only / "data" / "0000.log"
    data.write_bytes(flip(data.read_bytes(), 15, 0xFF))

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is None
    assert keys(recovered.journal.entries) == ["a", "b", "c"]
    assert "rebuilt from the whole journal" in recovered.notes[0]


def test_with_no_earlier_state_left_the_readable_lines_of_a_damaged_snapshot_are_used(tmp_path):
    store = Store(tmp_path)
    for name in ("a", "b"):
        store.append([put(name)])
        newest = snapshot_of(store, {"Item": 1}, {"Item": 2}, {"Item": 3})
    store.close()
    for snapshot in tmp_path.glob("snapshot-*"):
        data = snapshot / "data" / "0000.log"
        lines = data.read_bytes().splitlines(keepends=True)
        data.write_bytes(lines[0] + b"garbage\n" + lines[2])

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is not None
    assert recovered.snapshot.read("0000") == [{"Item": 1}, {"Item": 3}]
    assert any(
        f"the snapshot {newest.name} is damaged" in note
        and "no earlier state is left" in note
        and "line 2" in note
        for note in recovered.notes
    )


def test_an_unreadable_current_uses_the_newest_snapshot_that_verifies(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    snapshot_of(store, {"Item": "a"})
    store.append([put("b")])
    newest = snapshot_of(store, {"Item": "a"}, {"Item": "b"})
    store.close()
    (tmp_path / "CURRENT").write_bytes(b"\x00garbage")

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is not None
    assert recovered.snapshot.path == newest
    assert "CURRENT cannot be read" in recovered.notes[0]


def test_a_snapshot_of_the_format_before_checksums_is_read(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    store.rotate()
    store.append([put("b")])
    store.close()
    legacy = tmp_path / "snapshot-000002"
    (legacy / "data").mkdir(parents=True)
    (legacy / "data" / "0000.json").write_text('{"Item": 1}\n{"Item": 2}\n')
    (legacy / "manifest.json").write_text(json.dumps({"tables": {"t": {"data": "0000"}}, "journal": 2}))
    (tmp_path / "CURRENT").write_text("snapshot-000002")
    (tmp_path / "journal-000001.log").unlink()

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is not None
    assert recovered.snapshot.read("0000") == [{"Item": 1}, {"Item": 2}]
    assert keys(recovered.journal.entries) == ["b"]
    assert recovered.compact  # rewritten with checksums by the next compaction


def test_files_are_the_owners_alone(tmp_path):
    state = tmp_path / "ns"
    store = Store(state)
    store.append([put("a")])
    snapshot_of(store, {"Item": "a"})
    store.append([put("b")])
    store.close()

    for path in [state, *state.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_a_namespace_an_older_version_left_readable_is_made_private(tmp_path):
    state = tmp_path / "ns"
    (state / "objects").mkdir(parents=True)
    for path in (state / "journal-000001.log", state / "objects" / "blob"):
        path.write_bytes(encode_line(put("a")))
        path.chmod(0o644)
    state.chmod(0o755)
    (state / "objects").chmod(0o755)

    Store(state)

    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [state, *state.rglob("*")]}
    assert modes == {"ns": 0o700, "objects": 0o700, "journal-000001.log": 0o600, "blob": 0o600}


def test_reading_the_journal_alone_changes_nothing(tmp_path):
    store, lines = written(tmp_path, put("a"), put("b"))
    damaged = lines[0] + b"garbage\n" + lines[1]
    store.journal_path.write_bytes(damaged)

    contents = Store(tmp_path).read_journal()

    assert keys(contents.entries) == ["a", "b"]
    assert Path(store.journal_path).read_bytes() == damaged


def test_after_falling_back_to_the_journal_a_restart_loads_the_journal_again_quietly(tmp_path):
    store = Store(tmp_path)
    store.append([put("a"), put("b")])
    only = snapshot_of(store, {"Item": "a"}, {"Item": "b"})
    store.append([put("c")])
    store.close()
    data = only / "data" / "0000.log"
    data.write_bytes(flip(data.read_bytes(), 15, 0xFF))
    assert Store(tmp_path).recover().notes  # set aside, reported

    again = Store(tmp_path).recover()  # no compaction in between: the journal is still the state

    assert again.snapshot is None
    assert keys(again.journal.entries) == ["a", "b", "c"]
    assert again.notes == []


def test_each_compaction_after_a_fallback_keeps_what_the_next_fallback_needs(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    snapshot_of(store, {"Item": "a"})
    store.append([put("b")])
    newest = snapshot_of(store, {"Item": "a"}, {"Item": "b"})
    store.close()
    (newest / "manifest").write_bytes(b"garbage\n")
    recovering = Store(tmp_path)
    assert recovering.recover().snapshot is not None  # the previous one
    recovering.append([put("c")])
    latest = snapshot_of(recovering, {"Item": "a"}, {"Item": "b"}, {"Item": "c"})
    recovering.append([put("d")])
    recovering.close()
    (latest / "manifest").write_bytes(b"garbage\n")

    recovered = Store(tmp_path).recover()

    assert recovered.snapshot is not None
    assert recovered.snapshot.read("0000") == [{"Item": "a"}]
    assert keys(recovered.journal.entries) == ["b", "c", "d"]
    assert "nothing is lost" in recovered.notes[0]


def test_a_snapshot_that_does_not_read_back_is_never_made_current(tmp_path, monkeypatch):
    from serverless_local import journal

    store = Store(tmp_path)
    store.append([put("a")])
    first = snapshot_of(store, {"Item": "a"})
    store.append([put("b")])
    monkeypatch.setattr(journal, "_unverified", lambda path: "data/0000.log is not what was written")

    with pytest.raises(journal.SnapshotError, match="did not read back as written"):
        snapshot_of(store, {"Item": "a"}, {"Item": "b"})
    store.close()

    assert sorted(p.name for p in tmp_path.glob("snapshot-*")) == [first.name]
    assert decode_line((tmp_path / "CURRENT").read_bytes())["snapshot"] == first.name
    assert keys(Store(tmp_path).recover().journal.entries) == ["b"]
