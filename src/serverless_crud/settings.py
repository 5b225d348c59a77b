"""The function's configuration: every environment variable it reads, read and validated here only.

Shared infrastructure: every layer may import this module; it imports nothing of the package.

A setting is one field of `Settings` declared with `setting(...)`: its variable, how its text is
read, its default (none: the variable is required) and a sentence for the documentation. Reading
happens once per instance, at cold start (`current()`); a bad value stops the instance with one
sentence per bad variable instead of running with a guess. `reset()` forgets the values, as a new
instance would (tests); everything built from them is rebuilt through `per_settings`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")

MIN_BODY_BYTES = 1024
#: API Gateway passes binary bodies base64-encoded (4/3 larger) within Lambda's 6 MB payload limit.
MAX_BODY_BYTES = 4_000_000
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigurationError(Exception):
    """One or more environment variables hold values the function cannot run with."""


def text(raw: str) -> str:
    """A non-empty string, spaces around it removed."""
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def optional_text(raw: str) -> str:
    """Any string, spaces around it removed (empty allowed)."""
    return raw.strip()


def flag(raw: str) -> bool:
    """`true` or `false` (any case)."""
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def body_bytes(raw: str) -> int:
    """A whole number of bytes within what API Gateway and Lambda can pass."""
    value = raw.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 8) or not (
        MIN_BODY_BYTES <= int(value) <= MAX_BODY_BYTES
    ):
        raise ValueError(f"must be a whole number of bytes from {MIN_BODY_BYTES} to {MAX_BODY_BYTES}")
    return int(value)


def origins(raw: str) -> tuple[str, ...]:
    """Comma-separated origins (`https://app.example.com`), or `*` for any."""
    values = tuple(origin.strip() for origin in raw.split(",") if origin.strip())
    if not values:
        raise ValueError("must name at least one origin, or *")
    for origin in values:
        scheme, _, host = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not host or "/" in host):
            raise ValueError(f"{origin} is not an origin such as https://app.example.com (or *)")
    return values


def read_budget(raw: str) -> int:
    """A whole number of items from 100 to 100,000."""
    value = raw.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 6) or not 100 <= int(value) <= 100_000:
        raise ValueError("must be a whole number of items from 100 to 100000")
    return int(value)


def whole_number(low: int, high: int, unit: str) -> Callable[[str], int]:
    """A parser of a whole number of `unit` from `low` to `high`."""

    def parse(raw: str) -> int:
        value = raw.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 12) or not low <= int(value) <= high:
            raise ValueError(f"must be a whole number of {unit} from {low} to {high}")
        return int(value)

    parse.__doc__ = f"A whole number of {unit} from {low} to {high}."
    return parse


#: The bounds of the jobs' limits (template.yaml's parameters say the same).
MAX_IMPORT_BYTES = 5 * 1024**3  # one S3 PUT or browser-form upload
MAX_IMPORT_ROWS = 10_000_000
MAX_LINE_BYTES = 1024 * 1024


def log_level(raw: str) -> str:
    """One of Python's log level names."""
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return value


def retention_days(raw: str) -> int:
    """A whole number of days from 0 (kept forever) to 36,500."""
    value = raw.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 5) or int(value) > 36_500:
        raise ValueError("must be a whole number of days from 0 (kept forever) to 36500")
    return int(value)


AUTH_MODES = ("cognito", "none")


def auth_mode(raw: str) -> str:
    """`cognito` (sign-in required) or `none` (the open API)."""
    value = raw.strip().lower()
    if value not in AUTH_MODES:
        raise ValueError(f"must be one of {', '.join(AUTH_MODES)}")
    return value


def setting(
    variable: str, parse: Callable[[str], Any], doc: str, default: str | None = None, *, runtime: bool = False
) -> Any:
    """Declare a field of Settings read from `variable` (required when `default` is None); `runtime`:
    the Lambda runtime (or the local runtime) sets it, not the template."""
    return field(
        metadata={"variable": variable, "parse": parse, "doc": doc, "default": default, "runtime": runtime}
    )


@dataclass(frozen=True)
class Settings:
    """The function's configuration (template.yaml sets every variable)."""

    table_name: str = setting("TABLE_NAME", text, "the DynamoDB table")
    partition_key: str = setting("PARTITION_KEY", text, "partition key attribute of the table", "email")
    sort_key: str = setting("SORT_KEY", text, "sort key attribute of the table", "id")
    allowed_origins: tuple[str, ...] = setting(
        "ALLOWED_ORIGINS", origins, "comma-separated CORS origins, `*` for any", "*"
    )
    cursor_secret: str = setting(
        "CURSOR_SECRET", optional_text, "HMAC key of pagination cursors (empty: random per instance)", ""
    )
    max_body_bytes: int = setting("MAX_BODY_BYTES", body_bytes, "largest accepted request body", "65536")
    require_if_match: bool = setting(
        "REQUIRE_IF_MATCH", flag, "`true`: PUT, PATCH and DELETE without If-Match are 428", "false"
    )
    auth_mode: str = setting(
        "AUTH_MODE",
        auth_mode,
        "`cognito`: requests need the Cognito authorizer's claims (a verified email); `none`: open",
        "cognito",
    )
    user_pool_id: str = setting(
        "USER_POOL_ID", optional_text, "the Cognito user pool the UI signs in to (empty with `none`)", ""
    )
    user_pool_client_id: str = setting(
        "USER_POOL_CLIENT_ID", optional_text, "the UI's app client of the user pool", ""
    )
    aws_region: str = setting("AWS_REGION", text, "the region", "us-east-1", runtime=True)
    aws_endpoint_url: str = setting(
        "AWS_ENDPOINT_URL", optional_text, "the local AWS endpoint (the UI signs in there)", "", runtime=True
    )
    jobs_table: str = setting("JOBS_TABLE", optional_text, "the jobs' table (imports, exports, erasures)", "")
    files_bucket: str = setting(
        "FILES_BUCKET", optional_text, "the S3 bucket of imported and exported files", ""
    )
    import_state_machine: str = setting(
        "IMPORT_STATE_MACHINE", optional_text, "ARN of the import state machine", ""
    )
    export_state_machine: str = setting(
        "EXPORT_STATE_MACHINE", optional_text, "ARN of the export state machine", ""
    )
    erase_state_machine: str = setting(
        "ERASE_STATE_MACHINE", optional_text, "ARN of the erasure state machine", ""
    )
    max_import_bytes: int = setting(
        "MAX_IMPORT_BYTES",
        whole_number(1024, MAX_IMPORT_BYTES, "bytes"),
        "largest file an import takes (an upload over it is refused by S3, a request body by the API)",
        "1073741824",
    )
    max_import_rows: int = setting(
        "MAX_IMPORT_ROWS",
        whole_number(1, MAX_IMPORT_ROWS, "rows"),
        "most rows one import takes (a file with more fails before any row is written)",
        "10000000",
    )
    max_line_bytes: int = setting(
        "MAX_LINE_BYTES",
        whole_number(1024, MAX_LINE_BYTES, "bytes"),
        "longest line of an imported file (a file with a longer one fails before any row is written)",
        "65536",
    )
    import_concurrency: int = setting(
        "IMPORT_CONCURRENCY",
        whole_number(1, 1000, "chunks"),
        "chunks of an import written at once (the Distributed Map's MaxConcurrency)",
        "10",
    )
    import_tolerated_failure: int = setting(
        "IMPORT_TOLERATED_FAILURE_PERCENT",
        whole_number(0, 100, "percent"),
        "percentage of an import's chunks that may fail without failing the import (their rows are"
        " reported as not imported)",
        "0",
    )
    export_segments: int = setting(
        "EXPORT_SEGMENTS",
        whole_number(1, 1000, "segments"),
        "parallel Scan segments of an export of every record (the Distributed Map's items)",
        "8",
    )
    search_indexes: bool = setting(
        "SEARCH_INDEXES",
        flag,
        "`true`: the table has the sort and search indexes of docs/access-patterns.md",
        "true",
    )
    search_read_budget: int = setting(
        "SEARCH_READ_BUDGET", read_budget, "items a listing page may evaluate before it stops early", "2000"
    )
    idempotency_table: str = setting(
        "IDEMPOTENCY_TABLE",
        optional_text,
        "the DynamoDB table of Idempotency-Key responses (empty: the header is refused)",
        "",
    )
    history_table: str = setting(
        "HISTORY_TABLE",
        optional_text,
        "the DynamoDB table of the records' history (empty: no history routes)",
        "",
    )
    history_retention_days: int = setting(
        "HISTORY_RETENTION_DAYS",
        retention_days,
        "days a history entry is kept (0: forever)",
        "365",
    )
    tracing_enabled: bool = setting("TRACING_ENABLED", flag, "X-Ray tracing (Powertools Tracer)", "false")
    service_name: str = setting("POWERTOOLS_SERVICE_NAME", text, "service name in logs", "serverless-crud")
    metrics_namespace: str = setting(
        "POWERTOOLS_METRICS_NAMESPACE", text, "CloudWatch metrics namespace", "ServerlessCrud"
    )
    log_level: str = setting("POWERTOOLS_LOG_LEVEL", log_level, "log level", "INFO")

    @property
    def signs_in(self) -> bool:
        """Whether requests must carry a signed-in user (AUTH_MODE=cognito)."""
        return self.auth_mode == "cognito"

    @property
    def cognito_endpoint(self) -> str:
        """Where a browser calls Cognito's user pool API (InitiateAuth): the local endpoint, or AWS's."""
        return self.aws_endpoint_url or f"https://cognito-idp.{self.aws_region}.amazonaws.com/"

    @property
    def upload_origins(self) -> tuple[str, ...]:
        """Where a browser PUTs an upload's presigned URL: the local endpoint, or the bucket's hosts
        (botocore names it with or without the region)."""
        if not self.files_bucket:
            return ()
        if self.aws_endpoint_url:
            return (self.aws_endpoint_url,)
        host = f"https://{self.files_bucket}.s3"
        return (f"{host}.amazonaws.com", f"{host}.{self.aws_region}.amazonaws.com")

    @property
    def cursor_key(self) -> bytes:
        """The key cursors are signed with."""
        return self.cursor_secret.encode() if self.cursor_secret else _instance_key[0]

    @property
    def cursor_key_is_ephemeral(self) -> bool:
        """Whether cursors are valid within this instance only."""
        return not self.cursor_secret


#: Without a configured secret, cursors stay valid within this instance only.
_instance_key = [secrets.token_bytes(32)]


def renew_instance_key() -> None:
    """Draw this instance's own cursor key again (after a SnapStart restore, instances share it)."""
    _instance_key[0] = secrets.token_bytes(32)


def variables() -> list[tuple[str, str | None, str]]:
    """(variable, default, sentence) of every setting the template sets, in declaration order (for
    documentation); the variables Lambda's runtime sets are left out."""
    return [
        (f.metadata["variable"], f.metadata["default"], f.metadata["doc"])
        for f in fields(Settings)
        if not f.metadata["runtime"]
    ]


def load(environ: Mapping[str, str]) -> Settings:
    """Read and validate every setting; ConfigurationError names each bad variable."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for declared in fields(Settings):
        assert declared.default is MISSING  # defaults live in the metadata, as text to parse
        variable, default = declared.metadata["variable"], declared.metadata["default"]
        raw = environ.get(variable, default)
        if raw is None:
            problems.append(f"{variable} is not set ({declared.metadata['doc']})")
            continue
        try:
            values[declared.name] = declared.metadata["parse"](raw)
        except ValueError as error:
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            problems.append(f"{variable} {error} (it is {shown!r})")
    if problems:
        raise ConfigurationError("invalid configuration: " + "; ".join(problems))
    return Settings(**values)


_current: list[Settings] = []


def current() -> Settings:
    """The instance's settings, read from the environment on first use."""
    if not _current:
        _current.append(load(os.environ))
    return _current[0]


def reset() -> None:
    """Forget the settings (and, through per_settings, everything built from them)."""
    _current.clear()


def per_settings(build: Callable[[Settings], T]) -> Callable[[], T]:
    """`build(current())`, cached until the settings are reset."""
    cached: list[Any] = [None, None]

    def get() -> T:
        settings = current()
        if cached[0] is not settings:
            cached[:] = [settings, build(settings)]
        value: T = cached[1]
        return value

    get.__doc__ = build.__doc__
    get.__name__ = build.__name__
    return get
