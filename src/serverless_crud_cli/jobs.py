"""`serverless-crud import | export | erase`: the jobs API from a terminal, with a progress bar.

Against the local server (http://127.0.0.1:3000) unless `--api URL` (and `--token` for an API that
wants a bearer token) says otherwise. Exit status: 0 when everything went in (or out), 2 when rows
were rejected (the report names each line and is written to a file), 1 when the job could not run.
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
REJECTED = 2


class JobError(Exception):
    """Why the command cannot go on, in one sentence (`status`: the API's HTTP status, if any)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def register(commands: Any) -> None:
    """Add the import, export and erase commands to the CLI's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api", default=DEFAULT_API, help=f"the API's base URL (default {DEFAULT_API})")
    common.add_argument("--token", help="a bearer token for an API that wants one")

    importing = commands.add_parser(
        "import", parents=[common], help="import a CSV or JSON Lines file of records"
    )
    importing.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
    importing.add_argument(
        "--mode", choices=("create", "upsert"), default="create", help="upsert replaces existing records"
    )
    importing.add_argument("--report", type=Path, help="where rejected rows go (default FILE.rejected.csv)")
    importing.set_defaults(run=run_import)

    exporting = commands.add_parser(
        "export", parents=[common], help="export records to a CSV or JSON Lines file"
    )
    exporting.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    exporting.add_argument("--email", help="only this partition's records")
    exporting.add_argument(
        "-o", "--output", type=Path, help="the file to write (default records-<job>.<format>)"
    )
    exporting.set_defaults(run=run_export)

    erasing = commands.add_parser("erase", parents=[common], help="erase every record of one email")
    erasing.add_argument("email")
    erasing.set_defaults(run=run_erase)


def run(arguments: argparse.Namespace) -> int:
    """Run the command; one sentence on stderr and status 1 when it cannot."""
    try:
        status: int = arguments.run(arguments)
    except JobError as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return 1
    return status


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
    client = Client(arguments.api, arguments.token)
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
        f"{counts.get('rows', 0)} rows: {counts.get('written', 0)} written{unchanged}, "
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
    client = Client(arguments.api, arguments.token)
    body: dict[str, Any] = {"format": arguments.format}
    if arguments.email:
        body["email"] = arguments.email
    location = client.start("/exports", json.dumps(body).encode(), "application/json")
    job = follow(client, location, "exporting", total_of=lambda j: None)
    if job["status"] != "succeeded":
        raise JobError(f"the export failed: {job.get('failure', 'no reason given')}")
    output = arguments.output or Path(f"records-{job['id']}.{arguments.format}")
    client.download(job["download_url"], output)
    print(f"{job['counts'].get('records', 0)} records written to {output}")
    return 0


def run_erase(arguments: argparse.Namespace) -> int:
    """Erase one partition and say how many records went."""
    client = Client(arguments.api, arguments.token)
    location = client.start("/erasures", json.dumps({"email": arguments.email}).encode(), "application/json")
    job = follow(client, location, "erasing", total_of=lambda j: j["counts"].get("records"))
    if job["status"] != "succeeded":
        raise JobError(f"the erasure failed: {job.get('failure', 'no reason given')}")
    print(f"{job['counts'].get('erased', 0)} records of {job.get('email', arguments.email)} erased")
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
            raise JobError(f"the API refused: {detail} ({error.code})", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
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
