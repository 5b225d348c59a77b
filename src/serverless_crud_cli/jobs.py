"""`serverless-crud import | export | erase`: the jobs API from a terminal, with a progress bar.

Against the local server (http://127.0.0.1:3000), signed in as its local admin by itself (the
password `serve` keeps in the state directory), unless `--api URL` and `--token` (or
SERVERLESS_CRUD_API and SERVERLESS_CRUD_TOKEN) say otherwise. Exit status: 0 when everything went
in (or out), 3 when rows were rejected (the report names each line and is written to a file), 1 when
the job could not run, 2 for a command line that cannot be run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from serverless_crud.models.csv_cells import neutralise

DEFAULT_API = os.environ.get("SERVERLESS_CRUD_API", "http://127.0.0.1:3000")
MEDIA_TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}
POLL_SECONDS = 0.25
#: Exit statuses (serverless_crud_cli.main documents them all).
FAILED, USAGE, REJECTED = 1, 2, 3
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HOW_TO_GET_A_TOKEN = (
    "pass --token or set SERVERLESS_CRUD_TOKEN to an ID token of the API's user pool "  # noqa: S105
    "(`serverless-crud token EMAIL --stack STACK` prints one)"
)


class JobError(Exception):
    """Why the command cannot go on, in one sentence (`status`: the API's HTTP status, if any;
    `exit_status`: the command's)."""

    def __init__(self, message: str, status: int = 0, exit_status: int = FAILED) -> None:
        super().__init__(message)
        self.status = status
        self.exit_status = exit_status


def api_url(value: str) -> str:
    """An http(s) base URL (argparse type)."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an http(s) URL such as https://api.example.com/dev"
        )
    return value


def register(commands: Any) -> None:
    """Add the import, export and erase commands to the CLI's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--api",
        type=api_url,
        default=DEFAULT_API,
        help=f"the API's base URL (default $SERVERLESS_CRUD_API or {DEFAULT_API})",
    )
    common.add_argument(
        "--token",
        default=os.environ.get("SERVERLESS_CRUD_TOKEN") or None,
        help="an ID token of the API's user pool (default $SERVERLESS_CRUD_TOKEN; against the local "
        "server, the command signs in as its local admin)",
    )
    common.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STATE_DIR") or ".local"),
        help="the local server's state directory, with its admin's password (default $STATE_DIR or .local)",
    )

    importing = commands.add_parser(
        "import", parents=[common], help="import a CSV or JSON Lines file of records"
    )
    importing.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
    importing.add_argument(
        "--mode", choices=("create", "upsert"), default="create", help="upsert replaces existing records"
    )
    importing.add_argument(
        "--report", type=Path, help="the CSV file the rejected rows are listed in (default FILE.rejected.csv)"
    )
    importing.set_defaults(run=run_import)

    exporting = commands.add_parser(
        "export", parents=[common], help="export records to a CSV or JSON Lines file"
    )
    exporting.add_argument(
        "--format", choices=("csv", "jsonl"), default="csv", help="CSV or JSON Lines (default csv)"
    )
    exporting.add_argument(
        "--email", help="only the records of this email (default: every record you may see)"
    )
    exporting.add_argument(
        "-o", "--output", type=Path, help="the file to write (default records-<job>.<format>)"
    )
    exporting.set_defaults(run=run_export)

    erasing = commands.add_parser("erase", parents=[common], help="erase every record of one email")
    erasing.add_argument("email", help="the email whose records go")
    erasing.add_argument(
        "-y", "--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)"
    )
    erasing.set_defaults(run=run_erase)


def run(arguments: argparse.Namespace) -> int:
    """Run the command; one sentence on stderr and status 1 when it cannot."""
    from serverless_crud_cli.users import CliError

    try:
        status: int = arguments.run(arguments)
    except JobError as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return error.exit_status
    except CliError as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return FAILED
    return status


def client_for(arguments: argparse.Namespace) -> Client:
    """The API client: with the given token, or signed in as the local server's admin."""
    token = arguments.token
    if not token and urllib.parse.urlsplit(arguments.api).hostname in LOCAL_HOSTS:
        from serverless_crud_cli.users import local_admin_token

        token = local_admin_token(arguments.state_dir)
    return Client(arguments.api, token)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 record`, `2 records` (`nouns` when the plural is not the noun and an s)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


# -- commands --------------------------------------------------------------------------------------
def run_import(arguments: argparse.Namespace) -> int:
    """Send the file (as the request body, or through a presigned upload when it is over the API's
    body limit), follow the job, print a summary, write the rejected rows' report."""
    path: Path = arguments.file
    media = MEDIA_TYPES.get(path.suffix.lower())
    if media is None:
        raise JobError(f"{path} is not a .csv, .jsonl or .ndjson file")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise JobError(f"cannot read {path}: {error.strerror}") from None
    client = client_for(arguments)
    if size > client.body_limit():
        location = upload_then_import(client, path, size, arguments.mode)
    else:
        try:
            location = client.start(f"/imports?mode={arguments.mode}", path.read_bytes(), media)
        except JobError as error:
            if error.status != 413:
                raise
            location = upload_then_import(client, path, size, arguments.mode)
    job = follow(client, location, "importing", total_of=lambda j: j["counts"].get("rows"))
    counts = job["counts"]
    if job["status"] != "succeeded":
        raise JobError(f"the import failed: {job.get('failure', 'no reason given')}")
    unchanged = f", {counts['unchanged']} already imported (unchanged)" if counts.get("unchanged") else ""
    failed = f", {counts['failed']} not imported (their chunks failed)" if counts.get("failed") else ""
    print(
        f"{plural(counts.get('rows', 0), 'row')}: {counts.get('written', 0)} written{unchanged}, "
        f"{counts.get('rejected', 0)} rejected{failed}"
    )
    if not counts.get("rejected"):
        return 0
    report = arguments.report or path.with_name(path.name + ".rejected.csv")
    write_report(client, job, report)
    shown = job["rejected"][:5]
    for row in shown:
        problems = "; ".join(f"{e['field']} {e['message']}" for e in row["errors"])
        print(f"  line {row['line']}: {problems}")
    if counts["rejected"] > len(shown):
        print(f"  … and {counts['rejected'] - len(shown)} more")
    print(f"the rejected rows are listed in {report}")
    return REJECTED


def write_report(client: Client, job: dict[str, Any], report: Path) -> None:
    """Every rejected row (the job's report file; the job's first 1,000 when it has none), as CSV
    whose text cells no spreadsheet runs as formulas."""
    if job.get("report_url"):
        client.download(job["report_url"], report)
        return
    with report.open("w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(["line", "field", "message"])
        for row in job["rejected"]:
            for problem in row["errors"]:
                writer.writerow([row["line"], neutralise(problem["field"]), neutralise(problem["message"])])


def upload_then_import(client: Client, path: Path, size: int, mode: str) -> str:
    """A file over the API's body limit: POST it to a presigned browser-form upload (streamed, with
    the form's fields), then start its import."""
    fmt = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    upload, _ = client.request(
        "POST", "/imports/uploads", json.dumps({"format": fmt, "size": size}).encode(), "application/json"
    )
    form = MultipartForm(upload["upload_fields"], path, size, upload["content_type"])
    request = urllib.request.Request(  # noqa: S310 (the link the API handed out)
        upload["upload_url"],
        data=iter(form),
        method="POST",
        headers={"Content-Type": form.content_type, "Content-Length": str(form.length)},
    )
    try:
        with urllib.request.urlopen(request, timeout=300):  # noqa: S310
            pass
    except urllib.error.HTTPError as error:
        raise JobError(f"the file store refused the file: {_s3_message(error.read())}") from None
    except (urllib.error.URLError, OSError) as error:
        raise JobError(f"cannot upload the file: {getattr(error, 'reason', error)}") from None
    body = json.dumps({"upload": upload["upload"], "format": fmt}).encode()
    return client.start(f"/imports?mode={mode}", body, "application/json")


class MultipartForm:
    """A multipart/form-data body of fields and one file, read from disk as it is sent (a file of
    gigabytes never sits in memory), with its length known beforehand."""

    CHUNK = 1024 * 1024

    def __init__(self, fields: dict[str, str], path: Path, size: int, media: str) -> None:
        self.path = path
        self.boundary = "----serverless-crud-" + secrets.token_hex(12)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {media}\r\n\r\n"
        )
        self.head = head.encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(self.head) + size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        with self.path.open("rb") as source:
            while data := source.read(self.CHUNK):
                yield data
        yield self.tail


def _s3_message(body: bytes) -> str:
    """The sentence of an S3 error answer (XML), or a plain one."""
    try:
        message = ElementTree.fromstring(body).findtext("Message")  # noqa: S314 (our own bucket's answer)
    except ElementTree.ParseError:
        message = None
    if message and "exceeds the maximum allowed size" in message:
        return "the file is over the import size limit"
    return message or "no reason given"


def run_export(arguments: argparse.Namespace) -> int:
    """Start the export, wait for it, download the file."""
    if arguments.output is not None:
        folder = arguments.output.parent if str(arguments.output.parent) else Path(".")
        if not folder.is_dir():
            raise JobError(
                f"cannot write {arguments.output}: the folder {folder} does not exist", exit_status=USAGE
            )
        if not os.access(folder, os.W_OK):
            raise JobError(
                f"cannot write {arguments.output}: the folder {folder} is not writable", exit_status=USAGE
            )
    client = client_for(arguments)
    body: dict[str, Any] = {"format": arguments.format}
    if arguments.email:
        body["email"] = arguments.email
    location = client.start("/exports", json.dumps(body).encode(), "application/json")
    job = follow(client, location, "exporting", total_of=lambda j: None)
    if job["status"] != "succeeded":
        raise JobError(f"the export failed: {job.get('failure', 'no reason given')}")
    output = arguments.output or Path(f"records-{job['id']}.{arguments.format}")
    client.download(job["download_url"], output)
    print(f"{plural(job['counts'].get('records', 0), 'record')} written to {output}")
    return 0


def run_erase(arguments: argparse.Namespace) -> int:
    """Erase one partition (after a confirmation on a terminal) and say how many records went."""
    if not arguments.yes:
        if not sys.stdin.isatty():
            raise JobError(
                f"erasing every record of {arguments.email} needs --yes (no terminal to ask on)",
                exit_status=USAGE,
            )
        answer = input(f"Erase every record of {arguments.email}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing was erased")
            return 0
    client = client_for(arguments)
    location = client.start("/erasures", json.dumps({"email": arguments.email}).encode(), "application/json")
    job = follow(client, location, "erasing", total_of=lambda j: j["counts"].get("records"))
    if job["status"] != "succeeded":
        raise JobError(f"the erasure failed: {job.get('failure', 'no reason given')}")
    counts = job["counts"]
    erased = f"{plural(counts.get('erased', 0), 'record')} of {job.get('email', arguments.email)} erased"
    if "history_erased" in counts:
        erased += f", with {plural(counts['history_erased'], 'history entry', 'history entries')}"
    print(erased)
    return 0


# -- the API ---------------------------------------------------------------------------------------
class Client:
    """The jobs API over HTTP."""

    def __init__(self, api: str, token: str | None) -> None:
        self.api = api.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(
        self, method: str, path: str, body: bytes | None = None, media: str | None = None
    ) -> tuple[Any, Any]:
        url = path if path.startswith("http") else self.api + path
        headers = {**self.headers, **({"Content-Type": media} if media else {})}
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 (the API's URL)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return json.loads(response.read()), response.headers
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read()).get("detail") or error.reason
            except ValueError:
                detail = error.reason
            if error.code == 401:
                raise JobError(f"the API at {self.api} wants a token: {HOW_TO_GET_A_TOKEN}", 401) from None
            raise JobError(f"the API refused: {detail} ({error.code})", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, OSError) and reason.strerror:
                reason = reason.strerror.lower()
            raise JobError(
                f"cannot reach the API at {self.api}: {reason} (is `serverless-crud serve` running?)"
            ) from None

    def body_limit(self) -> int:
        """The largest request body the API takes (its /config.json; 64 KB if it does not say)."""
        try:
            config, _ = self.request("GET", "/config.json")
        except JobError:
            return 65536
        return int(config.get("max_body_bytes") or 65536)

    def download(self, url: str, target: Path) -> None:
        """Save a link the API handed out (a presigned GET) to `target`, as it streams."""
        try:
            with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as sink:  # noqa: S310
                while data := response.read(1024 * 1024):
                    sink.write(data)
        except (urllib.error.URLError, OSError) as error:
            raise JobError(f"cannot download to {target}: {getattr(error, 'reason', error)}") from None

    def start(self, path: str, body: bytes, media: str) -> str:
        """Start a job; its URL."""
        _, headers = self.request("POST", path, body, media)
        location = str(headers["Location"])
        # The Location is a path as the client sees it (with a stage prefix on AWS).
        base = urllib.parse.urlsplit(self.api)
        return f"{base.scheme}://{base.netloc}{location}" if location.startswith("/") else location


def follow(client: Client, location: str, verb: str, total_of: Any) -> dict[str, Any]:
    """Poll the job until it finishes, with a progress bar fed by its counts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn(f"{verb}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, console=None) as progress:
        task = progress.add_task(verb, total=None)
        while True:
            job, _ = client.request("GET", location)
            counts = job.get("counts") or {}
            total = total_of(job)
            done = (
                counts.get("written", 0) + counts.get("unchanged", 0) + counts.get("rejected", 0)
                if "rows" in counts
                else counts.get("erased", 0)
            )
            progress.update(task, total=total, completed=done)
            if job["status"] in ("succeeded", "failed"):
                return dict(job)
            time.sleep(POLL_SECONDS)
