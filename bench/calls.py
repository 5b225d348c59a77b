"""DynamoDB requests per API operation, counted with botocore's event hooks against moto.

`before-call` fires once per API call the client makes (GetItem, PutItem...); `before-send` once
per HTTP attempt (retries included). The contract says one request per single-item operation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench import aws
from bench.report import Table
from bench.warm import app_handler, create_tables_and_seed, quiet_stdout

EXPECTED_CALLS = 1
#: A partition of its own, so that the seeded records of the warm benchmark do not interfere.
EMAIL = "count@example.com"
RECORD_ID = 42


class CallCounter:
    """Counts a client's API calls and HTTP attempts, by operation name."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.sends = 0
        client.meta.events.register("before-call.dynamodb", self._call)
        client.meta.events.register("before-send.dynamodb", self._send)

    def _call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _send(self, **_: Any) -> None:
        self.sends += 1

    def reset(self) -> None:
        """Start counting afresh."""
        self.calls.clear()
        self.sends = 0


#: A merge patch reads the record, then writes conditionally on the version it read: the merged
#: record must pass PUT's rules, and a row written by another tool may not (decision 39).
#: Operations that make more than one request: PATCH reads before it writes; DELETE notes who deleted
#: the record in its history (the stream's record of a deletion carries no user; docs/history.md).
PATCH_CALLS = {"patch": 2, "patch, stale If-Match (412)": 1, "delete": 2}


def scenarios() -> list[tuple[str, dict[str, Any], int]]:
    """Each API operation as (label, event, expected status), in an order where each one succeeds."""
    path = f"/records/{EMAIL}/{RECORD_ID}"
    put = aws.json_body({"name": "Ann Replaced", "tags": ["a"], "amount": 1})
    patch = aws.json_body({"notes": "patched"})
    merge = {"Content-Type": "application/merge-patch+json"}
    return [
        ("create with id", aws.api_event("POST", "/records", body=_new(RECORD_ID)), 201),
        ("create without id", aws.api_event("POST", "/records", body=_new(None)), 201),
        ("create, id taken (409)", aws.api_event("POST", "/records", body=_new(RECORD_ID)), 409),
        ("get", aws.api_event("GET", path), 200),
        ("get, absent (404)", aws.api_event("GET", f"/records/{EMAIL}/7"), 404),
        ("put", aws.api_event("PUT", path, body=put, headers={"If-Match": '"1"'}), 200),
        ("put, absent (404)", aws.api_event("PUT", f"/records/{EMAIL}/7", body=put), 404),
        ("patch", aws.api_event("PATCH", path, body=patch, headers=merge), 200),
        (
            "patch, stale If-Match (412)",
            aws.api_event("PATCH", path, body=patch, headers={**merge, "If-Match": '"1"'}),
            412,
        ),
        ("list by email", aws.api_event("GET", "/records", query={"email": EMAIL}), 200),
        ("list all", aws.api_event("GET", "/records"), 200),
        ("delete", aws.api_event("DELETE", path), 204),
        ("delete, absent (404)", aws.api_event("DELETE", path), 404),
    ]


def _new(record_id: int | None) -> str:
    body: dict[str, Any] = {"email": EMAIL, "name": "Ann Example"}
    if record_id is not None:
        body["id"] = record_id
    return aws.json_body(body)


def run() -> Table:
    """Drive each operation through the handler and count what reached DynamoDB."""
    from moto import mock_aws

    table = Table(
        title="DynamoDB requests per API operation (botocore event hooks, moto in-process)",
        columns=["operation", "status", "DynamoDB calls", "HTTP attempts", "expected", "ok"],
    )
    context = aws.lambda_context()
    with mock_aws():
        create_tables_and_seed()
        handler, client = app_handler()
        counter = CallCounter(client)
        with quiet_stdout():
            for label, event, status in scenarios():
                counter.reset()
                response = handler(event, context)
                calls = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in counter.calls.items()) or "none"
                expected = PATCH_CALLS.get(label, EXPECTED_CALLS)
                ok = response["statusCode"] == status and sum(counter.calls.values()) == expected
                table.rows.append(
                    [
                        label,
                        str(response["statusCode"]),
                        calls,
                        str(counter.sends),
                        str(expected),
                        "yes" if ok else "NO",
                    ]
                )
                table.data[label] = {
                    "status": response["statusCode"],
                    "calls": dict(counter.calls),
                    "sends": counter.sends,
                }
    table.notes.append(
        "expected: one DynamoDB request per operation (conditional writes, no read-before-write), except "
        "PATCH: GetItem, then UpdateItem conditional on the version read (the merged record is validated), "
        "and DELETE: DeleteItem, then UpdateItem of the history's entry (who deleted it)."
    )
    return table
