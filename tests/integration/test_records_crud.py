"""Create, read, replace, patch and delete through the handler, with HTTP semantics."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.events import record_path

ALICE = {
    "email": "Alice@Example.com",
    "name": "  Alice Example ",
    "phone": "+44 20 7946 0000",
    "tags": ["vip"],
}


def create(api, **fields):
    reply = api.post("/records", {**ALICE, **fields})
    assert reply.status == 201, reply.body
    return reply


def count_items(api) -> int:
    return len(api.get("/records", query={"limit": "100"}).json()["items"])


class TestCreate:
    def test_created_record_is_normalised_and_server_fields_are_set(self, api):
        reply = create(api)
        record = reply.json()
        assert record["email"] == "alice@example.com"
        assert record["name"] == "Alice Example"
        assert record["phone"] == "+44 20 7946 0000"
        assert record["tags"] == ["vip"]
        assert record["notes"] is None and record["amount"] is None
        assert record["active"] is True
        assert record["version"] == 1
        assert record["created_at"] == record["updated_at"]
        assert record["created_at"].endswith("Z")
        assert isinstance(record["id"], int) and 1 <= record["id"] <= 2**53 - 1

    def test_201_carries_location_with_the_stage_and_an_etag(self, api):
        reply = create(api)
        record = reply.json()
        assert reply.headers["ETag"] == '"1"'
        assert reply.headers["Location"] == f"/dev/records/alice@example.com/{record['id']}"
        assert reply.headers["Content-Type"] == "application/json"

    def test_client_chosen_id_is_kept(self, api):
        assert create(api, id=42).json()["id"] == 42

    def test_existing_key_is_409_and_the_record_is_unchanged(self, api):
        create(api, id=7)
        reply = api.post("/records", {**ALICE, "id": 7, "name": "Mallory"})
        assert reply.status == 409
        assert reply.headers["Content-Type"] == "application/problem+json"
        assert api.get(record_path("alice@example.com", 7)).json()["name"] == "Alice Example"

    def test_server_assigned_ids_never_overwrite_on_collision(self, api, monkeypatch):
        # The id generator proposes the same id twice: the second create must take another one.
        from serverless_crud.dal import repository

        proposals = iter([555, 555, 556])
        monkeypatch.setattr(repository, "new_id", lambda: next(proposals))
        first = create(api).json()
        second = create(api, name="Bob").json()
        assert (first["id"], second["id"]) == (555, 556)
        assert api.get(record_path("alice@example.com", 555)).json()["name"] == "Alice Example"


class TestRead:
    def test_get_returns_the_record_with_its_etag(self, api):
        record = create(api).json()
        reply = api.get(record_path(record["email"], record["id"]))
        assert reply.status == 200
        assert reply.json() == record
        assert reply.headers["ETag"] == '"1"'

    def test_email_in_path_is_case_insensitive_and_may_be_percent_encoded(self, api):
        record = create(api).json()
        assert api.get(f"/records/ALICE%40example.com/{record['id']}").status == 200
        assert api.get(f"/records/alice@example.com/{record['id']}").status == 200

    def test_if_none_match_gives_304_without_a_body(self, api):
        record = create(api).json()
        path = record_path(record["email"], record["id"])
        reply = api.get(path, headers={"If-None-Match": '"1"'})
        assert reply.status == 304
        assert reply.body == ""
        assert reply.headers["ETag"] == '"1"'
        assert api.get(path, headers={"If-None-Match": 'W/"1"'}).status == 304
        assert api.get(path, headers={"If-None-Match": '"2"'}).status == 200

    def test_absent_record_is_404_problem(self, api):
        reply = api.get(record_path("nobody@example.com", 1))
        assert reply.status == 404
        problem = reply.json()
        assert problem["status"] == 404 and problem["title"] == "Not Found"
        assert set(problem) >= {"type", "title", "status", "detail"}

    @pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "9007199254740992", "1e3"])
    def test_malformed_id_in_the_path_is_400(self, api, bad_id):
        reply = api.get(f"/records/alice%40example.com/{bad_id}")
        assert reply.status == 400, reply.body
        assert reply.json()["status"] == 400

    def test_an_email_in_the_path_is_a_stored_key_any_text_may_be_404(self, api):
        # Rows written by other tools may have any partition key, so the path is not an address check.
        assert api.get("/records/not-an-email/1").status == 404
        assert api.get(f"/records/{'x' * 3000}/1").status == 404


class TestReplace:
    def test_put_replaces_mutable_fields_and_bumps_the_version(self, api):
        record = create(api, notes="old", amount=5).json()
        path = record_path(record["email"], record["id"])
        reply = api.put(path, {"name": "Alice B.", "active": False})
        assert reply.status == 200, reply.body
        replaced = reply.json()
        assert replaced["name"] == "Alice B." and replaced["active"] is False
        # Full replace: fields not sent return to their defaults.
        assert replaced["notes"] is None and replaced["amount"] is None and replaced["tags"] == []
        assert replaced["phone"] is None
        assert replaced["version"] == 2 and reply.headers["ETag"] == '"2"'
        assert replaced["created_at"] == record["created_at"]
        assert replaced["updated_at"] >= record["updated_at"]
        assert api.get(path).json() == replaced

    def test_put_of_an_absent_record_is_404_and_creates_nothing(self, api):
        reply = api.put(record_path("ghost@example.com", 99), {"name": "Ghost"})
        assert reply.status == 404
        assert count_items(api) == 0

    def test_put_with_a_matching_if_match_succeeds(self, api):
        record = create(api).json()
        reply = api.put(
            record_path(record["email"], record["id"]), {"name": "X"}, headers={"If-Match": '"1"'}
        )
        assert reply.status == 200

    @pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', "garbage", '"0"'])
    def test_put_with_a_stale_or_unusable_if_match_is_412_and_changes_nothing(self, api, if_match):
        record = create(api).json()
        path = record_path(record["email"], record["id"])
        reply = api.put(path, {"name": "X"}, headers={"If-Match": if_match})
        assert reply.status == 412
        assert reply.headers["ETag"] == '"1"'
        assert api.get(path).json() == record

    def test_if_match_on_an_absent_record_is_404(self, api):
        reply = api.put(record_path("ghost@example.com", 5), {"name": "X"}, headers={"If-Match": '"1"'})
        assert reply.status == 404

    def test_body_key_must_match_the_url(self, api):
        record = create(api).json()
        path = record_path(record["email"], record["id"])
        same = api.put(path, {"name": "Same", "email": "ALICE@example.com", "id": record["id"]})
        assert same.status == 200
        other = api.put(path, {"name": "Moved", "email": "bob@example.com"})
        assert other.status == 422
        assert other.json()["errors"] == [
            {"field": "email", "message": "does not match the URL; a record's key cannot change"}
        ]


class TestPatch:
    def test_merge_patch_sets_given_fields_and_keeps_the_rest(self, api):
        record = create(api, notes="keep me").json()
        reply = api.patch(record_path(record["email"], record["id"]), {"phone": "123", "amount": 1.25})
        assert reply.status == 200, reply.body
        patched = reply.json()
        assert patched["phone"] == "123" and patched["amount"] == Decimal("1.25")
        assert patched["notes"] == "keep me" and patched["name"] == "Alice Example"
        assert patched["version"] == 2

    def test_null_removes_an_optional_field_and_resets_a_defaulted_one(self, api):
        record = create(api, notes="gone soon", active=False).json()
        patched = api.patch(
            record_path(record["email"], record["id"]), {"notes": None, "active": None}
        ).json()
        assert patched["notes"] is None
        assert patched["active"] is True

    def test_null_on_a_required_field_is_422(self, api):
        record = create(api).json()
        reply = api.patch(record_path(record["email"], record["id"]), {"name": None})
        assert reply.status == 422
        assert reply.json()["errors"][0]["field"] == "name"

    def test_patch_accepts_application_json_too(self, api):
        record = create(api).json()
        reply = api.patch(
            record_path(record["email"], record["id"]),
            {"name": "J"},
            headers={"Content-Type": "application/json"},
        )
        assert reply.status == 200

    def test_patch_with_a_stale_if_match_is_412(self, api):
        record = create(api).json()
        path = record_path(record["email"], record["id"])
        api.patch(path, {"name": "first"})
        assert api.patch(path, {"name": "second"}, headers={"If-Match": '"1"'}).status == 412
        assert api.get(path).json()["name"] == "first"

    def test_patch_of_an_absent_record_is_404(self, api):
        assert api.patch(record_path("ghost@example.com", 3), {"name": "x"}).status == 404
        assert count_items(api) == 0


class TestDelete:
    def test_delete_then_404(self, api):
        record = create(api).json()
        path = record_path(record["email"], record["id"])
        reply = api.delete(path)
        assert reply.status == 204 and reply.body == ""
        assert api.get(path).status == 404
        assert api.delete(path).status == 404

    def test_delete_honours_if_match(self, api):
        record = create(api).json()
        path = record_path(record["email"], record["id"])
        assert api.delete(path, headers={"If-Match": '"7"'}).status == 412
        assert api.get(path).status == 200
        assert api.delete(path, headers={"If-Match": '"1"'}).status == 204
