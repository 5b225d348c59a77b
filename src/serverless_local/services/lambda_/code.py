"""Where a function's code comes from locally, as `sam build` would lay it out.

- `InlineCode` is written once to the cache, as `index.py` (Lambda's name for it), in a directory
  named by the code's hash.
- A `requirements.txt` in the function's `CodeUri` (SAM's default build, pip) is installed once
  into the cache, in a directory named by the hash of the file and the interpreter, and put on the
  function's import path after its own code; `sam build` would install it into the artifact.
- Layers of the template with local content add their directories, as Lambda's `/opt/python` does.

The cache is `$SERVERLESS_LOCAL_CACHE`, else `$XDG_CACHE_HOME/serverless-local`, else
`~/.cache/serverless-local`: shared by every project and state directory.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from serverless_local.code_cache import cache_directory

if TYPE_CHECKING:
    from serverless_local.stack import FunctionSpec, LayerSpec

REQUIREMENTS = "requirements.txt"
#: How long one `pip install` may take before the function runs without its requirements.
PIP_TIMEOUT_SECONDS = 600


@dataclass
class PreparedCode:
    """A function's import path beyond its code directory, and what the banner should say of it."""

    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def prepare(spec: FunctionSpec, layers: dict[str, LayerSpec]) -> PreparedCode:
    """Write inline code, install requirements (once per hash), find the layers' directories."""
    prepared = PreparedCode()
    if spec.inline_code is not None:
        _write_once(spec.code_uri / "index.py", spec.inline_code)
    elif spec.archive is not None:
        _unpack_once(spec.archive, spec.code_uri)
    elif spec.build_method is None or spec.build_method.startswith("python"):
        # `sam build` installs requirements.txt only with SAM's own Python build (pip)
        installed = _requirements(spec.code_uri / REQUIREMENTS, prepared, spec.logical_id)
        if installed is not None:
            prepared.paths.append(installed)
    for layer in spec.layers:
        local = layers.get(layer)
        if local is None:
            prepared.notes.append(
                f"{spec.logical_id}: the layer {layer} exists only in AWS (its modules come from the "
                "runtime's own environment, if installed there)"
            )
            continue
        prepared.paths.extend(local.paths(spec.runtime))
        if local.build_method and local.build_method.startswith("python"):
            installed = _requirements(local.content / REQUIREMENTS, prepared, local.logical_id)
            if installed is not None:
                prepared.paths.append(installed)
    return prepared


def _write_once(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def _unpack_once(archive: Path, target: Path) -> None:
    """Unpack a zip `CodeUri` into `target` (named by its content: once per content)."""
    import zipfile

    if target.is_dir():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    with zipfile.ZipFile(archive) as opened:
        for member in opened.infolist():  # no member may land outside the directory
            if member.filename.startswith("/") or ".." in Path(member.filename).parts:
                raise ValueError(f"{archive} holds a path outside its folder: {member.filename}")
        opened.extractall(staging)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _requirements(requirements: Path, prepared: PreparedCode, owner: str) -> Path | None:
    """The directory `requirements` is installed in (installing it if it is not yet), or None."""
    if not requirements.is_file():
        return None
    text = requirements.read_bytes()
    if not any(line.strip() and not line.strip().startswith(b"#") for line in text.splitlines()):
        return None
    interpreter = f"{sys.implementation.name}{sys.version_info.major}{sys.version_info.minor}"
    digest = hashlib.sha256(interpreter.encode() + b"\0" + text).hexdigest()[:32]
    target = cache_directory() / "requirements" / digest
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"serverless-local: installing {owner}'s {requirements} (once, into {target})", flush=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{digest}.", dir=target.parent))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--target",
        str(staging),
        "-r",
        str(requirements),
    ]
    try:
        result = subprocess.run(  # noqa: S603 (this interpreter's pip, the template's requirements)
            command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        result = None
    if result is None or result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        why = "timed out" if result is None else _last_line(result.stderr or result.stdout)
        prepared.notes.append(f"{owner}: {requirements} could not be installed ({why}); it runs without it")
        return None
    try:
        staging.rename(target)
    except OSError:  # another server installed the same requirements meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "pip failed"
