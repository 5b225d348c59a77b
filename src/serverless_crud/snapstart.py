"""Lambda SnapStart: what must differ between instances is drawn again after each restore.

With SnapStart, Lambda initialises a published version once and resumes every new instance from a
memory snapshot of it, so whatever initialisation drew at random is the same in all of them. The
runtime calls the hooks registered with snapshot-restore-py (part of the Lambda Python runtime)
after each restore; without SnapStart they never run. Shared infrastructure: imports only settings.
"""

from __future__ import annotations

import random

from snapshot_restore_py import register_after_restore

from serverless_crud.settings import renew_instance_key


def refresh_after_restore() -> None:
    """Give this restored instance its own random state (registered below as a restore hook)."""
    # The id jitter of dal/repository.py `new_id` (and botocore's retry jitter) draw from the
    # module-level generator, seeded once at import: reseed it from the OS's entropy.
    random.seed()
    # Without CURSOR_SECRET, cursors are signed with a key drawn at import: each instance draws its
    # own (the template always sets CURSOR_SECRET).
    renew_instance_key()


register_after_restore(refresh_after_restore)
