"""The journal and snapshots of the local state directory."""

from __future__ import annotations

import json

from serverless_local.journal import Store, TableImage, decode_line, encode_line

TABLE = {
    "TableName": "t",
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def put(key, value="v"):
    return {"op": "put", "table": "t", "item": {"k": {"S": key}, "v": {"S": value}}}


def test_entries_read_back_in_order(tmp_path):
    store = Store(tmp_path, sync=False)
    store.append([put("a"), put("b")])
    store.append([put("c", "ü")])
    store.close()

    assert Store(tmp_path).read_journal().entries == [put("a"), put("b"), put("c", "ü")]


def test_a_torn_last_line_is_reported_and_the_lines_before_it_kept(tmp_path):
    store = Store(tmp_path)
    store.append([put("a"), put("b")])
    store.close()
    with store.journal_path.open("ab") as journal:
        journal.write(encode_line(put("c"))[:-5])

    contents = Store(tmp_path).read_journal()

    assert contents.entries == [put("a"), put("b")]
    assert contents.damaged_at_line == 3
    assert "incomplete" in (contents.problem or "")


def test_a_line_whose_checksum_does_not_match_stops_the_replay_there(tmp_path):
    store = Store(tmp_path)
    store.append([put("a"), put("b"), put("c")])
    store.close()
    lines = store.journal_path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"b"', b'"x"')
    store.journal_path.write_bytes(b"".join(lines))

    contents = Store(tmp_path).read_journal()

    assert contents.entries == [put("a")]
    assert contents.damaged_at_line == 2
    assert "checksum" in (contents.problem or "")


def test_decode_rejects_what_encode_did_not_write():
    assert decode_line(encode_line(put("a"))) == put("a")
    for bad in (b"zzzzzzzz {}\n", b"\n", b"00000000 []\n"):
        try:
            decode_line(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_a_snapshot_is_in_export_format_and_covers_the_segments_before_it(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    image = TableImage(create=TABLE, ttl={"AttributeName": "ttl", "Enabled": True}, items=[put("a")["item"]])
    covers = store.rotate()
    store.append([put("b")])

    snapshot = store.write_snapshot({"t": image}, covers)

    reopened = Store(tmp_path)
    assert reopened.read_snapshot() == {"t": image}
    assert reopened.read_journal().entries == [put("b")]
    # DynamoDB's export format: one {"Item": ...} object per line.
    (data,) = (snapshot / "data").iterdir()
    assert [json.loads(line) for line in data.read_text().splitlines()] == [{"Item": put("a")["item"]}]


def test_a_snapshot_that_never_became_current_changes_nothing(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    store.rotate()
    store.append([put("b")])
    store.close()  # as if the process died before writing the snapshot

    assert Store(tmp_path).read_journal().entries == [put("a"), put("b")]


def test_only_the_newest_snapshot_is_kept(tmp_path):
    store = Store(tmp_path)
    store.write_snapshot({"t": TableImage(create=TABLE, items=[])}, store.rotate())
    newest = store.write_snapshot({"t": TableImage(create=TABLE, items=[put("z")["item"]])}, store.rotate())

    assert sorted(p.name for p in tmp_path.glob("snapshot-*")) == [newest.name]
    assert store.read_snapshot()["t"].items == [put("z")["item"]]


def test_a_damaged_segment_is_set_aside(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    store.close()
    with store.journal_path.open("ab") as journal:
        journal.write(b"garbage\n")
    contents = store.read_journal()

    store.set_aside_damaged(contents)

    assert contents.entries == [put("a")]
    assert Store(tmp_path).read_journal().entries == []
    assert (tmp_path / "journal-000001.log.damaged").exists()
