"""S3 objects written and joined as streams (dal/jobs.py) against moto's S3, which holds multipart
uploads to S3's rules (every part but the last at least 5 MiB); and the local S3's check of a browser
form upload against its policy, as S3 checks it."""

from __future__ import annotations

import base64
import datetime
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_crud.dal.jobs import MIN_PART_BYTES, FileStore
from serverless_local.services.s3.service import post_policy_refusal

MB = 1024 * 1024


@pytest.fixture
def files() -> Iterator[FileStore]:
    from moto import mock_aws

    with mock_aws():
        import boto3

        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="files")
        yield FileStore(client, "files")


def test_a_small_object_is_one_put_and_a_big_one_a_multipart_upload(files: FileStore) -> None:
    with files.writer("small", "text/csv") as sink:
        sink.write(b"a" * 10)
    assert files.get("small") == b"a" * 10
    data = os.urandom(3 * MB)
    with files.writer("big", "text/csv") as sink:
        for _ in range(7):  # 21 MB in 3 MB writes: 8 MB parts and a last one
            sink.write(data)
    assert files.size("big") == 7 * 3 * MB
    assert files.get("big") == data * 7


def _write_then_fail(files: FileStore) -> None:
    with files.writer("broken", "text/csv") as sink:
        sink.write(b"x" * 9 * MB)  # a part is uploaded already
        raise RuntimeError("stop")


def test_an_error_inside_the_writer_leaves_no_object(files: FileStore) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(files)
    assert files.size("broken") is None


@pytest.mark.parametrize(
    "sizes",
    [
        [10, 20, 30],  # all small: read and written in one piece
        [6 * MB, 7 * MB],  # all copied by S3
        [100, 6 * MB, 200, 5 * MB + 1, 300],  # small ones before big ones: filled from the big one
        [3 * MB, 3 * MB, 3 * MB],  # small ones adding up past a part
        [0, 5 * MB, 0],
    ],
)
def test_objects_are_joined_in_order_whatever_their_sizes(files: FileStore, sizes: list[int]) -> None:
    parts = []
    for n, size in enumerate(sizes):
        body = bytes([65 + n]) * size
        files.put(f"parts/{n:03d}", body, "text/csv")
        parts.append(body)
    files.concatenate(files.keys("parts/"), "joined", "text/csv")
    assert files.get("joined") == b"".join(parts)
    assert MIN_PART_BYTES == 5 * MB


def _form(conditions: list[Any], *, expires_in: int = 600, **fields: str) -> dict[str, str]:
    expiration = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=expires_in)
    policy = {"expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "conditions": conditions}
    return {"policy": base64.b64encode(json.dumps(policy).encode()).decode(), **fields}


NOW = datetime.datetime.now(tz=datetime.UTC)
CONDITIONS = [
    {"bucket": "files"},
    {"key": "up/1.csv"},
    {"Content-Type": "text/csv"},
    ["content-length-range", 1, 100],
]


def test_a_form_within_its_policy_is_taken() -> None:
    form = _form(CONDITIONS, key="up/1.csv", **{"Content-Type": "text/csv"})
    assert post_policy_refusal(form, 100, "files", NOW) is None


@pytest.mark.parametrize(
    ("form", "size", "status", "code"),
    [
        (_form(CONDITIONS, key="up/1.csv", **{"Content-Type": "text/csv"}), 101, 400, "EntityTooLarge"),
        (_form(CONDITIONS, key="up/1.csv", **{"Content-Type": "text/csv"}), 0, 400, "EntityTooSmall"),
        (_form(CONDITIONS, key="up/2.csv", **{"Content-Type": "text/csv"}), 10, 403, "AccessDenied"),
        (_form(CONDITIONS, key="up/1.csv", **{"Content-Type": "text/html"}), 10, 403, "AccessDenied"),
        (
            _form(CONDITIONS, expires_in=-1, key="up/1.csv", **{"Content-Type": "text/csv"}),
            10,
            403,
            "AccessDenied",
        ),
        ({"key": "up/1.csv"}, 10, 403, "AccessDenied"),
        ({"key": "up/1.csv", "policy": "not base64 JSON"}, 10, 400, "InvalidPolicyDocument"),
    ],
)
def test_a_form_its_policy_does_not_allow_is_refused_as_s3_refuses_it(
    form: dict[str, str], size: int, status: int, code: str
) -> None:
    refusal = post_policy_refusal(form, size, "files", NOW)
    assert refusal is not None
    assert (refusal[0], f"<Code>{code}</Code>" in refusal[2]) == (status, True)
    assert refusal[1]["Content-Type"] == "application/xml"
