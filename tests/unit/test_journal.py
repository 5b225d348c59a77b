"""The journal and snapshots of one namespace of the state directory."""

from __future__ import annotations

import json

from serverless_local.journal import Store, decode_line, decode_lines, encode_line


def put(key, value="v"):
    return {"op": "put", "table": "t", "item": {"k": {"S": key}, "v": {"S": value}}}


def written(tmp_path, *entries):
    store = Store(tmp_path)
    store.append(list(entries))
    store.close()
    return store, store.journal_path.read_bytes().splitlines(keepends=True)


def test_entries_read_back_in_order(tmp_path):
    store = Store(tmp_path, sync=False)
    store.append([put("a"), put("b")])
    store.append([put("c", "ü")])
    store.close()

    assert Store(tmp_path).read_journal().entries == [put("a"), put("b"), put("c", "ü")]


def test_a_torn_last_line_is_set_aside_and_the_lines_before_it_kept(tmp_path):
    store, _ = written(tmp_path, put("a"), put("b"))
    with store.journal_path.open("ab") as journal:
        journal.write(encode_line(put("c"))[:-5])

    contents = Store(tmp_path).read_journal()

    assert contents.entries == [put("a"), put("b")]
    assert [(d.line, d.problem.split(":")[0]) for d in contents.damaged] == [(3, "incomplete")]


def test_a_damaged_line_in_the_middle_costs_only_its_own_entry(tmp_path):
    store, lines = written(tmp_path, put("a"), put("b"), put("c"), put("d"))
    lines[1] = lines[1].replace(b'"b"', b'"x"')
    store.journal_path.write_bytes(b"".join(lines))

    contents = Store(tmp_path).read_journal()

    assert contents.entries == [put("a"), put("c"), put("d")]
    assert [(d.line, d.problem) for d in contents.damaged] == [(2, "the checksum does not match")]
    assert "1 damaged journal line(s) set aside" in contents.describe_damage()
    assert "the other 3 entries are kept" in contents.describe_damage()


def test_two_lines_merged_by_a_damaged_newline_are_both_read():
    first, second = encode_line(put("a")), encode_line(put("b"))

    assert decode_lines(first[:-1] + b"\x0b" + second) == [put("a"), put("b")]


def test_decode_rejects_what_encode_did_not_write():
    assert decode_line(encode_line(put("a"))) == put("a")
    for bad in (b"zzzzzzzz {}\n", b"\n", b"00000000 []\n"):
        try:
            decode_line(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_set_aside_copies_the_damaged_lines_and_appends_to_a_new_segment(tmp_path):
    store, lines = written(tmp_path, put("a"), put("b"))
    store.journal_path.write_bytes(lines[0] + b"garbage\n" + lines[1])
    reopened = Store(tmp_path)
    contents = reopened.read_journal()

    reopened.set_aside(contents)
    reopened.append([put("c")])

    assert (tmp_path / "journal-000001.log.damaged").read_bytes() == b"garbage\n"
    assert reopened.journal_path.name == "journal-000002.log"
    assert [e["item"]["k"]["S"] for e in Store(tmp_path).read_journal().entries] == ["a", "b", "c"]


def test_a_snapshot_holds_the_services_manifest_and_data_and_covers_the_segments_before_it(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    covers = store.rotate()
    store.append([put("b")])

    snapshot = store.write_snapshot(
        {"tables": {"t": {"data": "0000"}}}, {"0000": [{"Item": {"k": 1}}]}, covers
    )

    reopened = Store(tmp_path)
    current = reopened.read_snapshot()
    assert current is not None
    assert current.manifest == {"tables": {"t": {"data": "0000"}}, "journal": covers}
    assert current.read("0000") == [{"Item": {"k": 1}}]
    assert reopened.read_journal().entries == [put("b")]
    assert [json.loads(line) for line in (snapshot / "data" / "0000.json").read_text().splitlines()] == [
        {"Item": {"k": 1}}
    ]


def test_a_snapshot_that_never_became_current_changes_nothing(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    store.rotate()
    store.append([put("b")])
    store.close()  # as if the process died before writing the snapshot

    assert Store(tmp_path).read_snapshot() is None
    assert Store(tmp_path).read_journal().entries == [put("a"), put("b")]


def test_only_the_newest_snapshot_is_kept(tmp_path):
    store = Store(tmp_path)
    store.write_snapshot({}, {"0000": []}, store.rotate())
    newest = store.write_snapshot({}, {"0000": [{"z": 1}]}, store.rotate())

    assert sorted(p.name for p in tmp_path.glob("snapshot-*")) == [newest.name]
    current = store.read_snapshot()
    assert current is not None
    assert current.read("0000") == [{"z": 1}]
