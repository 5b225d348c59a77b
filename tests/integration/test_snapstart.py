"""SnapStart: instances restored from one snapshot do not share their random state.

A child interpreter initialises the function as Lambda does before taking a snapshot (imports the
handler, with the table in moto), then forks twice: each fork is an instance restored from that
snapshot (with the random generator's state of the parent put back: unlike a fork, a restore does
not reseed it). Each one runs the hooks registered with snapshot-restore-py, the way the Lambda runtime
calls them after a restore, then creates records through the handler at the same instant (the
clock frozen, as two instances restored together can be) and lists them to get a cursor. The
control run skips the hooks, and shows what they prevent: both instances then assign the same ids
and accept each other's cursors.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from tests.conftest import records_table
from tests.support.processes import last_json_line, run

SCRIPT = r"""
import json, os, random, sys
from unittest import mock

import boto3
from moto import mock_aws

definition, mode = json.loads(sys.argv[1]), sys.argv[2]
EMAIL = "snap@example.com"
FROZEN_NS = 1_790_000_000_000_000_000

with mock_aws():
    boto3.client("dynamodb").create_table(**definition)
    # Initialisation: what Lambda runs once, before it takes the snapshot.
    from serverless_crud.handler import lambda_handler
    from snapshot_restore_py import get_after_restore
    from tests.support.events import lambda_context, rest_event

    creates = [rest_event("POST", "/records", body={"email": EMAIL, "name": f"R{i}"}) for i in range(5)]
    first_page = rest_event("GET", "/records", query={"email": EMAIL, "limit": "1"})
    snapshot_random_state = random.getstate()

    def restored_instance(foreign_cursor):
        read, write = os.pipe()
        if os.fork() == 0:  # the restored instance
            os.close(read)
            try:
                # A fork reseeds `random` in the child (os.register_at_fork); a restore from a
                # snapshot does not: put back the state the snapshot holds.
                random.setstate(snapshot_random_state)
                if mode == "hooks":
                    for hook, args, kwargs in get_after_restore():
                        hook(*args, **kwargs)
                with mock.patch("time.time_ns", return_value=FROZEN_NS):
                    created = [lambda_handler(event, lambda_context()) for event in creates]
                page = json.loads(lambda_handler(first_page, lambda_context())["body"])
                foreign = None
                if foreign_cursor:
                    query = {"email": EMAIL, "limit": "1", "cursor": foreign_cursor}
                    event = rest_event("GET", "/records", query=query)
                    foreign = lambda_handler(event, lambda_context())["statusCode"]
                result = {
                    "statuses": [response["statusCode"] for response in created],
                    "ids": [json.loads(response["body"])["id"] for response in created],
                    "cursor": page["next_cursor"],
                    "foreign_cursor_status": foreign,
                }
                os.write(write, json.dumps(result).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            result = json.loads(pipe.read())
        os.wait()
        return result

    first = restored_instance(None)
    second = restored_instance(first["cursor"])
    print(json.dumps({"hooks": len(get_after_restore()), "first": first, "second": second}))
"""


def _restore_twice(mode: str) -> dict[str, Any]:
    definition = records_table(None)
    env = {k: v for k, v in os.environ.items() if k != "CURSOR_SECRET"}
    env["TABLE_NAME"] = definition["TableName"]
    outcome: dict[str, Any] = last_json_line(
        run([sys.executable, "-c", SCRIPT, json.dumps(definition), mode], env=env)
    )
    return outcome


@pytest.fixture(scope="module")
def with_hooks() -> dict[str, Any]:
    return _restore_twice("hooks")


def test_importing_the_handler_registers_a_restore_hook(with_hooks: dict[str, Any]) -> None:
    assert with_hooks["hooks"] >= 1


def test_restored_instances_assign_different_ids(with_hooks: dict[str, Any]) -> None:
    first, second = with_hooks["first"], with_hooks["second"]
    assert first["statuses"] == second["statuses"] == [201] * 5
    assert first["ids"] != second["ids"]


def test_restored_instances_sign_cursors_with_their_own_key(with_hooks: dict[str, Any]) -> None:
    # No CURSOR_SECRET: each instance has a key of its own, drawn after the restore.
    assert with_hooks["second"]["foreign_cursor_status"] == 400


def test_without_the_hooks_restored_instances_would_collide() -> None:
    control = _restore_twice("no-hooks")
    assert control["first"]["ids"] == control["second"]["ids"]
    assert control["second"]["foreign_cursor_status"] == 200
