"""Configuration from the function's environment (set by template.yaml).

Shared infrastructure: every layer may import this module; it imports nothing of the package.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import cache

DEFAULT_MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Settings:
    """The function's configuration, read once per cold start."""

    table_name: str
    partition_key: str
    sort_key: str
    allowed_origins: tuple[str, ...]
    cursor_secret: bytes
    cursor_secret_is_ephemeral: bool
    max_body_bytes: int


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())


@cache
def get_settings() -> Settings:
    """Read the settings from the environment (cached; `get_settings.cache_clear()` re-reads)."""
    env = os.environ
    secret = env.get("CURSOR_SECRET", "")
    return Settings(
        table_name=env.get("TABLE_NAME", "records"),
        partition_key=env.get("PARTITION_KEY", "email"),
        sort_key=env.get("SORT_KEY", "id"),
        allowed_origins=_origins(env.get("ALLOWED_ORIGINS", "*")) or ("*",),
        # Without a configured secret, cursors stay valid within this instance only.
        cursor_secret=secret.encode() if secret else secrets.token_bytes(32),
        cursor_secret_is_ephemeral=not secret,
        max_body_bytes=int(env.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
    )
