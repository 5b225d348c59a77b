"""The records' operations against the OpenAPI document of a server started with RequireIfMatch=true
(its document and its answers differ: a change without If-Match is 428): the same schemathesis run as
test_openapi_contract.py, in a file of its own so that the two runs go to two workers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, start_server
from tests.e2e.test_openapi_contract import run_schemathesis

pytestmark = pytest.mark.runs_for(50)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("contract"), "--no-fsync", "--parameter-overrides", "RequireIfMatch=true"
    )
    yield running
    running.stop()


def test_the_server_keeps_every_promise_of_its_openapi_document_when_if_match_is_required(
    server: Server, tmp_path: Path
):
    run_schemathesis(server, ["--include-path-regex", "^/records"], tmp_path)
