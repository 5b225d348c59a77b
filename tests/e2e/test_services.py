"""The seam: a service registered from a test, for a template resource type the runtime does not know.

It is one class: the resources of its type, start (create them in the embedded AWS, replay its own
journal), a banner line, a namespace of the state directory, and a run-time value for `!Ref`.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from serverless_local.options import ServeOptions
from serverless_local.server import LocalServer
from serverless_local.services.base import Service
from serverless_local.services.lambda_.service import LambdaService
from serverless_local.services.registry import SERVICES
from tests.e2e.conftest import aws_client

FUNCTIONS = Path(__file__).resolve().parent / "functions"
TEMPLATE = f"""
Resources:
  Jobs:
    Type: AWS::Kinesis::Stream
    Properties: {{Name: jobs, ShardCount: 1}}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe.echo
      CodeUri: {FUNCTIONS}
      Environment: {{Variables: {{STREAM_ARN: !GetAtt Jobs.Arn}}}}
      Events:
        Any:
          Type: Api
          Properties: {{Path: "/echo/{{proxy+}}", Method: ANY}}
"""


class StreamService(Service):
    """The template's Kinesis streams, in moto; streams made at the endpoint journaled under kinesis/."""

    title: ClassVar[str] = "Kinesis"
    resource_types: ClassVar[frozenset[str]] = frozenset({"AWS::Kinesis::Stream"})
    namespace: ClassVar[str | None] = "kinesis"

    def start(self) -> None:
        from moto.kinesis.responses import KinesisResponse

        self.store = self.context.store("kinesis")
        self.arns: dict[str, str] = {}
        kinesis = self.context.aws.client("kinesis")
        for entry in self.store.read_journal().entries:
            kinesis.create_stream(StreamName=entry["name"], ShardCount=1)
        for resource in self.resources:
            name = self.context.template.resolve(resource.properties.get("Name"), resource.logical_id)
            kinesis.create_stream(StreamName=name, ShardCount=1)
            self.arns[resource.logical_id] = kinesis.describe_stream_summary(StreamName=name)[
                "StreamDescriptionSummary"
            ]["StreamARN"]
        self.context.template.resolver.providers["AWS::Kinesis::Stream"] = self.value
        self.context.aws.on_action(KinesisResponse, threading.RLock(), self.record)

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        return self.arns[logical_id] if attribute == "Arn" else self.arns[logical_id].rsplit("/", 1)[1]

    def record(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action == "CreateStream":
            self.store.append([{"name": handler._get_param("StreamName")}])

    def stop(self) -> None:
        self.store.close()

    def report(self) -> str:
        return ", ".join(sorted(arn.rsplit("/", 1)[1] for arn in self.arns.values()))


def serve(tmp_path: Path) -> LocalServer:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    services = (StreamService, *SERVICES)
    assert services.index(StreamService) < services.index(LambdaService)
    server = LocalServer(
        ServeOptions(template=tmp_path / "template.yaml", port=0, state_dir=tmp_path / "state", sync=False),
        services,
    )
    server.start()
    return server


def kinesis(server: LocalServer) -> Any:
    return aws_client(server.endpoint, "kinesis", "eu-north-1")


def test_a_service_registered_from_a_test_runs_its_resources_reports_and_persists(tmp_path):
    server = serve(tmp_path)
    try:
        lines = server.banner().splitlines()
        assert "  Kinesis      jobs" in lines[2:]  # below the endpoint's line: one of the services it serves
        assert "(the services below and every other one moto embeds" in lines[1]
        assert "AWS::Kinesis::Stream" not in server.banner()  # not listed as not emulated
        with urllib.request.urlopen(server.url + "/echo/env", timeout=30) as response:
            environment = json.loads(response.read())["environment"]
        # `!GetAtt Jobs.Arn` is the stream's ARN, a value only the running service knows.
        assert environment["STREAM_ARN"].endswith(":stream/jobs")
        assert kinesis(server).list_streams()["StreamNames"] == ["jobs"]
        kinesis(server).create_stream(StreamName="made-at-the-endpoint", ShardCount=1)
    finally:
        server.stop()
    assert (tmp_path / "state" / "kinesis").is_dir()

    again = serve(tmp_path)
    try:
        assert set(kinesis(again).list_streams()["StreamNames"]) == {"jobs", "made-at-the-endpoint"}
    finally:
        again.stop()
