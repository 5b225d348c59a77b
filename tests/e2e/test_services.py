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
from serverless_local.services import SERVICES
from serverless_local.services.base import Service
from serverless_local.services.lambda_ import LambdaService
from tests.e2e.conftest import aws_client

FUNCTIONS = Path(__file__).resolve().parent / "functions"
TEMPLATE = f"""
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {{QueueName: jobs}}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: probe.echo
      CodeUri: {FUNCTIONS}
      Environment: {{Variables: {{QUEUE_URL: !Ref Jobs}}}}
      Events:
        Any:
          Type: Api
          Properties: {{Path: "/echo/{{proxy+}}", Method: ANY}}
"""


class QueueService(Service):
    """SQS queues of the template, in moto; queues created at the endpoint are journaled under sqs/."""

    title: ClassVar[str] = "SQS"
    resource_types: ClassVar[frozenset[str]] = frozenset({"AWS::SQS::Queue"})
    namespace: ClassVar[str | None] = "sqs"

    def start(self) -> None:
        from moto.sqs.responses import SQSResponse

        self.store = self.context.store("sqs")
        self.urls: dict[str, str] = {}
        sqs = self.context.aws.client("sqs")
        for entry in self.store.read_journal().entries:
            sqs.create_queue(QueueName=entry["name"])
        for resource in self.resources:
            name = self.context.template.resolve(resource.properties.get("QueueName"), resource.logical_id)
            self.urls[resource.logical_id] = sqs.create_queue(QueueName=name or resource.logical_id)[
                "QueueUrl"
            ]
        self.context.template.resolver.providers["AWS::SQS::Queue"] = self.value
        self.context.aws.on_action(SQSResponse, threading.RLock(), self.record)

    def value(self, logical_id: str, resource: Any, attribute: str | None) -> str:
        return self.urls[logical_id] if attribute is None else self.urls[logical_id].rsplit("/", 1)[1]

    def record(self, handler: Any, action: str, params: dict[str, Any]) -> None:
        if action == "CreateQueue":
            self.store.append([{"name": params["QueueName"]}])

    def stop(self) -> None:
        self.store.close()

    def report(self) -> str:
        return ", ".join(sorted(url.rsplit("/", 1)[1] for url in self.urls.values()))


def serve(tmp_path: Path) -> LocalServer:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    services = (QueueService, *SERVICES)
    assert services.index(QueueService) < services.index(LambdaService)
    server = LocalServer(
        ServeOptions(template=tmp_path / "template.yaml", port=0, state_dir=tmp_path / "state", sync=False),
        services,
    )
    server.start()
    return server


def sqs(server: LocalServer) -> Any:
    return aws_client(server.endpoint, "sqs", "eu-north-1")


def test_a_service_registered_from_a_test_runs_its_resources_reports_and_persists(tmp_path):
    server = serve(tmp_path)
    try:
        assert "  SQS          jobs" in server.banner()
        assert "SQS" in server.banner().splitlines()[1]  # served at the one endpoint
        with urllib.request.urlopen(server.url + "/echo/env", timeout=30) as response:
            environment = json.loads(response.read())["environment"]
        # `!Ref Jobs` is the queue's URL, a value only the running service knows.
        assert environment["QUEUE_URL"].endswith("/123456789012/jobs")
        assert [url.rsplit("/", 1)[1] for url in sqs(server).list_queues()["QueueUrls"]] == ["jobs"]
        sqs(server).create_queue(QueueName="made-at-the-endpoint")
    finally:
        server.stop()
    assert (tmp_path / "state" / "sqs").is_dir()

    again = serve(tmp_path)
    try:
        names = {url.rsplit("/", 1)[1] for url in sqs(again).list_queues()["QueueUrls"]}
        assert names == {"jobs", "made-at-the-endpoint"}
    finally:
        again.stop()
