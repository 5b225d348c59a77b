"""Where the runtime keeps what it derives from a template's code: InlineCode written out, zip
`CodeUri`s unpacked, requirements installed; each named by its content, so it is made once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_directory() -> Path:
    """The runtime's cache (inline code, installed requirements)."""
    explicit = os.environ.get("SERVERLESS_LOCAL_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "serverless-local"


def inline_code_directory(code: str) -> Path:
    """Where the function of this InlineCode runs from (its `index.py`, written by `prepare`)."""
    return cache_directory() / "inline" / hashlib.sha256(code.encode()).hexdigest()[:32]


def archive_directory(archive: Path) -> Path:
    """Where the function of a zip file `CodeUri` runs from (unpacked there by `prepare`)."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:32]
    return cache_directory() / "zip" / digest
