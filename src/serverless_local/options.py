"""What `serverless-crud serve` was asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: API Gateway's integration timeout (REST APIs).
INTEGRATION_TIMEOUT_SECONDS = 29.0
#: Where a running server says how to reach it, in its state directory (the CLI's other commands read it).
SERVER_FILE = "serverless-local.json"
#: The names SAM looks for a template by, in order.
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")


def find_template(directory: Path = Path()) -> Path:
    """The template of a SAM project directory: the first of TEMPLATE_NAMES there (template.yaml
    when none is)."""
    for name in TEMPLATE_NAMES:
        if (directory / name).is_file():
            return directory / name
    return directory / TEMPLATE_NAMES[0]


@dataclass
class ServeOptions:
    """The local runtime's options (the CLI's flags)."""

    template: Path = Path("template.yaml")
    host: str = "127.0.0.1"
    port: int = 3000
    #: The one AWS endpoint; None: the API port + 1 (or a free port when the API port is 0).
    aws_port: int | None = None
    state_dir: Path = Path(".local")
    fresh: bool = False
    reload: bool = False
    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    #: Warm instances each function may have at once (Lambda scales out; locally one by default, so
    #: responses leave in the order requests came, as before; more show races a client must handle).
    concurrency: int = 1
    #: Seconds a keep-alive connection may stay idle between requests before it is closed.
    idle_timeout: float = 60.0
    #: Open connections the API port accepts at once (one more is closed at once).
    max_connections: int = 1024
    #: fsync each journal write (off only for throw-away state).
    sync: bool = True
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    #: `AWS::StackName` (None: DEFAULT_STACK_NAME); names made with `!Sub ${AWS::StackName}-…` follow.
    stack_name: str | None = None
    #: Seconds before the first retry of a failed asynchronous invocation (the second waits twice as
    #: long): Lambda's own is about a minute.
    async_retry_delay: float = 60.0
    #: The name the banner and messages start with, and the labels of the API port's URL in the banner.
    program: str = "serverless-local"
    links: tuple[str, ...] = ("API",)
    #: Every Nth BatchWriteItem leaves the second half of its items unprocessed, as DynamoDB does
    #: when it throttles (0: never): to see a client's retries work.
    throttle_batch_writes: int = 0
