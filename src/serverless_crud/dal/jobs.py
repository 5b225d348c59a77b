"""Jobs (imports, exports, erasures): their records in the jobs table, their files in S3, their
executions in Step Functions. One DynamoDB request per job operation."""

from __future__ import annotations

import json
from typing import Any

from serverless_crud.dal.attributes import deserialise_item, serialise, serialise_item

Job = dict[str, Any]


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
        """Read one object."""
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def get_head(self, key: str, size: int) -> bytes:
        """The first `size` bytes of one object."""
        body: bytes = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{size - 1}")[
            "Body"
        ].read()
        return body

    def keys(self, prefix: str) -> list[str]:
        """The keys under `prefix`, in order."""
        found: list[str] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(entry["Key"] for entry in page.get("Contents", []))
        return found

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

    def upload_url(self, key: str, content_type: str, seconds: int) -> str:
        """A time-limited link a client PUTs one object to."""
        url: str = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=seconds,
        )
        return url

    def exists(self, key: str) -> bool:
        """Whether the object is there."""
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True


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
