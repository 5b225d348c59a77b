"""The journal and snapshots of the local state directory."""

from __future__ import annotations

import json

from serverless_crud.local.journal import Store, TableImage, decode_line, encode_line

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


def test_compaction_writes_an_export_snapshot_and_empties_the_journal(tmp_path):
    store = Store(tmp_path)
    store.append([put("a")])
    image = TableImage(create=TABLE, ttl={"AttributeName": "ttl", "Enabled": True}, items=[put("a")["item"]])

    snapshot = store.compact({"t": image})

    assert store.read_journal().entries == []
    assert store.read_snapshot() == {"t": image}
    # DynamoDB's export format: one {"Item": ...} object per line.
    (data,) = (snapshot / "data").iterdir()
    assert [json.loads(line) for line in data.read_text().splitlines()] == [{"Item": put("a")["item"]}]
    store.append([put("b")])
    assert store.read_journal().entries == [put("b")]


def test_only_the_newest_snapshot_is_kept(tmp_path):
    store = Store(tmp_path)
    store.compact({"t": TableImage(create=TABLE, items=[])})
    newest = store.compact({"t": TableImage(create=TABLE, items=[put("z")["item"]])})

    assert sorted(p.name for p in tmp_path.glob("snapshot-*")) == [newest.name]
    assert store.read_snapshot()["t"].items == [put("z")["item"]]
