"""The X-Ray switch: the SDK is loaded only when tracing is on, and requests work either way."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.conftest import records_table
from tests.support.processes import last_json_line, run

SCRIPT = """
import json, sys, boto3
from moto import mock_aws
with mock_aws():
    boto3.client("dynamodb").create_table(**json.loads(sys.argv[1]))
    from serverless_crud.handler import lambda_handler
    from tests.support.events import lambda_context, rest_event
    response = lambda_handler(rest_event("POST", "/records", body={"email": "t@example.com", "name": "T"}),
                              lambda_context())
    print(json.dumps({"status": response["statusCode"], "xray": "aws_xray_sdk" in sys.modules}))
"""


@pytest.mark.parametrize(("enabled", "xray_loaded"), [("true", True), ("false", False)])
def test_tracing_switch(enabled, xray_loaded):
    definition = records_table(None)
    env = {
        **os.environ,
        "TRACING_ENABLED": enabled,
        "TABLE_NAME": definition["TableName"],
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    }
    outcome = last_json_line(run([sys.executable, "-c", SCRIPT, json.dumps(definition)], env=env))
    assert outcome == {"status": 201, "xray": xray_loaded}
