"""Jobs (imports, exports, erasures): their records in the jobs table, their files in S3, their
executions in Step Functions. One DynamoDB request per job operation."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from serverless_crud.dal.attributes import deserialise_item, serialise, serialise_item

Job = dict[str, Any]
#: S3's smallest part of a multipart upload (all but the last), and the size this module writes.
MIN_PART_BYTES = 5 * 1024 * 1024
PART_BYTES = 8 * 1024 * 1024
#: How much of an object a reader asks S3 for at a time.
READ_BYTES = 1024 * 1024


class JobRepository:
    """Job records keyed by owner and job id (ids sort by creation, so a Query lists newest first)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._client = dynamodb
        self._table = table

    def create(self, job: Job) -> None:
        """Store a new job (its id is new: the write is conditional all the same)."""
        self._client.put_item(
            TableName=self._table,
            Item=serialise_item(job),
            ConditionExpression="attribute_not_exists(#id)",
            ExpressionAttributeNames={"#id": "id"},
        )

    def get(self, owner: str, job_id: str) -> Job | None:
        """The job, or None."""
        response = self._client.get_item(
            TableName=self._table, Key=self._key(owner, job_id), ConsistentRead=True
        )
        return deserialise_item(response["Item"]) if "Item" in response else None

    def list(self, owner: str, limit: int) -> list[Job]:
        """The owner's newest jobs."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": {"S": owner}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [deserialise_item(item) for item in response.get("Items", [])]

    def update(self, owner: str, job_id: str, changes: dict[str, Any]) -> None:
        """Set `changes` on an existing job."""
        names = {f"#n{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": serialise(value) for i, value in enumerate(changes.values())}
        names["#id"] = "id"
        self._client.update_item(
            TableName=self._table,
            Key=self._key(owner, job_id),
            UpdateExpression="SET " + ", ".join(f"#n{i} = :v{i}" for i in range(len(changes))),
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def add_counts(self, owner: str, job_id: str, counts: dict[str, int]) -> None:
        """Add to the job's counts (a chunk's progress), atomically."""
        names = {"#counts": "counts", **{f"#c{i}": name for i, name in enumerate(counts)}}
        values = {f":v{i}": serialise(value) for i, value in enumerate(counts.values())}
        self._client.update_item(
            TableName=self._table,
            Key=self._key(owner, job_id),
            UpdateExpression="ADD " + ", ".join(f"#counts.#c{i} :v{i}" for i in range(len(counts))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    @staticmethod
    def _key(owner: str, job_id: str) -> dict[str, Any]:
        return {"owner": {"S": owner}, "id": {"S": job_id}}


class FileStore:
    """The jobs' files in one S3 bucket."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._client = s3
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write one object."""
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        """Read one (small) object."""
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def get_if_exists(self, key: str) -> bytes | None:
        """Read one (small) object, or None when there is none."""
        from botocore.exceptions import ClientError

        try:
            return self.get(key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def open(self, key: str, seen: Callable[[bytes], None] | None = None) -> io.BufferedReader:
        """A reader of one object of any size, holding a megabyte of it at a time; `seen` is given
        every byte read, in order (to digest the object as it streams)."""
        body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return io.BufferedReader(_Stream(body, seen), READ_BYTES)

    def get_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of one object."""
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{size - 1}")[
            "Body"
        ].read()
        return body

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is none."""
        from botocore.exceptions import ClientError

        try:
            return int(self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError:
            return None

    def exists(self, key: str) -> bool:
        """Whether the object is there."""
        return self.size(key) is not None

    def keys(self, prefix: str) -> list[tuple[str, int]]:
        """The keys under `prefix` and their sizes, in key order."""
        found: list[tuple[str, int]] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend((entry["Key"], int(entry["Size"])) for entry in page.get("Contents", []))
        return found

    def writer(self, key: str, content_type: str) -> ObjectWriter:
        """A writer of one object of any size (a multipart upload past 8 MB)."""
        return ObjectWriter(self._client, self.bucket, key, content_type)

    def concatenate(self, sources: Iterable[tuple[str, int]], key: str, content_type: str) -> None:
        """Write the objects `sources` (key, size) one after the other into `key`: each part of 5 MB
        or more is copied by S3 itself; smaller ones pass through this process (at most one part's
        worth at a time)."""
        with self.writer(key, content_type) as sink:
            for source, size in sources:
                sink.copy(source, size)

    def download_url(self, key: str, filename: str, seconds: int) -> str:
        """A time-limited link that downloads the object as `filename`."""
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=seconds,
        )
        return url

    def upload_form(self, key: str, content_type: str, max_bytes: int, seconds: int) -> dict[str, Any]:
        """A time-limited browser-form upload (presigned POST) of one object to `key`: S3 refuses a
        file over `max_bytes`, of another content type or to another key. {"url", "fields"}."""
        form: dict[str, Any] = self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=seconds,
        )
        return form


class _Stream(io.RawIOBase):
    """An S3 object's body as a raw stream (for io.BufferedReader), each chunk shown to `seen`."""

    def __init__(self, body: Any, seen: Callable[[bytes], None] | None) -> None:
        self._body = body
        self._seen = seen

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data: bytes = self._body.read(len(buffer))
        if self._seen is not None and data:
            self._seen(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class ObjectWriter:
    """One S3 object written as a stream: kept in memory up to 8 MB, a multipart upload past it.

    Use it as a context manager: leaving it normally completes the object; leaving it on an error
    aborts the upload (nothing is written). Memory holds at most one part.
    """

    def __init__(self, client: Any, bucket: str, key: str, content_type: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._buffer = bytearray()
        self._upload: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.written = 0

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, data: bytes) -> None:
        """Append `data`."""
        self._buffer += data
        self.written += len(data)
        if len(self._buffer) >= PART_BYTES:
            self._flush()

    def copy(self, source: str, size: int) -> None:
        """Append the object `source` of `size` bytes, copied by S3 where a part allows it."""
        start = 0
        if self._buffer and size >= MIN_PART_BYTES:
            # The buffered bytes cannot be a part of their own (too small): fill them up from the source.
            start = min(size, MIN_PART_BYTES - len(self._buffer)) if len(self._buffer) < MIN_PART_BYTES else 0
            if start:
                self.write(self._range(source, 0, start))
            if self._buffer:
                self._flush()
        rest = size - start
        if rest >= MIN_PART_BYTES and not self._buffer:
            self._begin()
            answer = self._client.upload_part_copy(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload,
                PartNumber=len(self._parts) + 1,
                CopySource={"Bucket": self._bucket, "Key": source},
                CopySourceRange=f"bytes={start}-{size - 1}",
            )
            self._parts.append({"PartNumber": len(self._parts) + 1, "ETag": answer["CopyPartResult"]["ETag"]})
            self.written += rest
        elif rest:
            self.write(self._range(source, start, size))

    def _range(self, source: str, start: int, end: int) -> bytes:
        body: bytes = self._client.get_object(
            Bucket=self._bucket, Key=source, Range=f"bytes={start}-{end - 1}"
        )["Body"].read()
        return body

    def _begin(self) -> None:
        if self._upload is None:
            self._upload = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType=self._content_type
            )["UploadId"]

    def _flush(self) -> None:
        self._begin()
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self._buffer.clear()

    def close(self) -> None:
        """Complete the object."""
        if self._upload is None:
            self._client.put_object(
                Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer), ContentType=self._content_type
            )
            self._buffer.clear()
            return
        if self._buffer:
            self._flush()
        self._client.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        """Give up the object (a multipart upload begun is aborted)."""
        if self._upload is not None:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload)
        self._buffer.clear()


class Workflows:
    """The state machines' executions: one per job, named by the job id."""

    def __init__(self, stepfunctions: Any) -> None:
        self._client = stepfunctions

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution; its ARN."""
        arn: str = self._client.start_execution(
            stateMachineArn=machine_arn, name=name, input=json.dumps(payload)
        )["executionArn"]
        return arn

    def status(self, execution_arn: str) -> tuple[str, str | None, str | None]:
        """(status, error, cause) of an execution."""
        described = self._client.describe_execution(executionArn=execution_arn)
        return described["status"], described.get("error"), described.get("cause")
