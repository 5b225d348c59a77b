"""Running the pinned SAM CLI in tests: where it is, and an environment with no AWS account."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv" / "bin" / "sam"


def sam_environment() -> dict[str, str]:
    """This machine's environment with a region (`sam validate` wants one) and no AWS credentials
    or profile, no telemetry: the checks run offline."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") or name in ("AWS_CONFIG_FILE",)
    }
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        SAM_CLI_TELEMETRY="0",
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
    )
    return env


def makefile_functions(template: dict[str, Any]) -> set[str]:
    """The template's functions that `sam build` builds with the Makefile."""
    return {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource.get("Metadata", {}).get("BuildMethod") == "makefile"
    }
