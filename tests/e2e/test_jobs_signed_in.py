"""Jobs with sign-in (AuthMode=cognito, the default): a job belongs to whoever started it, an import
writes only into the caller's partition and records who wrote each row, an export holds only what
the caller may see, an erasure of another owner's partition is refused, and an Idempotency-Key
makes a repeated import start one job.
"""

from __future__ import annotations

import time
from typing import Any

from tests.e2e import test_identity as identity
from tests.e2e.conftest import START_LIMIT_SECONDS, Server
from tests.e2e.test_identity import ALICE, BOB, claims

# The signed-in server with Alice and Bob, and their tokens (module-scoped: one server for this file).
server = identity.server
tokens = identity.tokens

CSV = "text/csv"


def _as(tokens: dict[str, str], who: str, **headers: str) -> dict[str, str]:
    return {"Authorization": tokens[who], **headers}


def _finished(server: Server, location: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + START_LIMIT_SECONDS * 3  # a guard against a hang, not a timing check
    while time.monotonic() < deadline:
        job = server.request("GET", location, headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"{location} did not finish: {job}")


def test_an_import_writes_only_the_callers_rows_and_its_job_is_theirs(server: Server, tokens) -> None:
    alice = _as(tokens, "alice")
    data = f"email,id,name\n{ALICE},1,Mine\n{BOB},1,Not mine\n{ALICE},2,Also mine\n"
    reply = server.request("POST", "/imports", data.encode(), {**alice, "Content-Type": CSV})
    assert reply.status == 202, reply.body
    location = reply.headers["Location"]
    job = _finished(server, location, alice)
    assert job["status"] == "succeeded", job
    assert job["counts"]["written"] == 2 and job["counts"]["rejected"] == 1
    assert [r["line"] for r in job["rejected"]] == [3]
    assert job["rejected"][0]["errors"][0]["field"] == "email"

    mine = server.request("GET", "/records", headers=alice).json()["items"]
    assert sorted(r["name"] for r in mine) == ["Also mine", "Mine"]
    subject = claims(tokens["alice"])["sub"]
    assert {(r["created_by"], r["updated_by"]) for r in mine} == {(subject, subject)}
    assert server.request("GET", "/records", headers=_as(tokens, "bob")).json()["items"] == []

    # The job is Alice's: Bob neither reads it nor sees it listed.
    assert server.request("GET", location, headers=_as(tokens, "bob")).status == 404
    listed = server.request("GET", "/jobs", headers=_as(tokens, "bob")).json()["items"]
    assert job["id"] not in {j["id"] for j in listed}
    assert job["id"] in {j["id"] for j in server.request("GET", "/jobs", headers=alice).json()["items"]}


def test_exports_and_erasures_stay_inside_what_the_caller_may_see(server: Server, tokens) -> None:
    bob = _as(tokens, "bob")
    created = server.request("POST", "/records", {"email": BOB, "name": "Bob's"}, bob)
    assert created.status == 201
    assert server.request("POST", "/erasures", {"email": ALICE}, bob).status == 403
    assert server.request("POST", "/exports", {"format": "jsonl", "email": ALICE}, bob).status == 403

    reply = server.request("POST", "/exports", {"format": "jsonl"}, bob)
    assert reply.status == 202
    job = _finished(server, reply.headers["Location"], bob)
    assert job["status"] == "succeeded" and job["counts"]["records"] == 1, job

    reply = server.request("POST", "/erasures", {"email": BOB}, bob)
    assert reply.status == 202
    job = _finished(server, reply.headers["Location"], bob)
    assert job["status"] == "succeeded" and job["counts"]["erased"] == 1, job
    assert server.request("GET", "/records", headers=_as(tokens, "alice")).json()["items"]  # untouched


def test_a_repeated_import_with_one_idempotency_key_starts_one_job(server: Server, tokens) -> None:
    headers = _as(tokens, "alice", **{"Content-Type": CSV, "Idempotency-Key": "import-once"})
    before = _imports(server, tokens)
    data = f"email,id,name\n{ALICE},10,Once\n".encode()
    first = server.request("POST", "/imports", data, headers)
    again = server.request("POST", "/imports", data, headers)
    assert first.status == again.status == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    # The same key with another file, or another mode, is another request: 422.
    other = server.request("POST", "/imports", data + f"{ALICE},11,Twice\n".encode(), headers)
    assert other.status == 422
    upsert = server.request("POST", "/imports?mode=upsert", data, headers)
    assert upsert.status == 422
    assert _imports(server, tokens) == before + 1


def _imports(server: Server, tokens: dict[str, str]) -> int:
    jobs = server.request("GET", "/jobs", headers=_as(tokens, "alice")).json()["items"]
    return sum(1 for job in jobs if job["kind"] == "import")
