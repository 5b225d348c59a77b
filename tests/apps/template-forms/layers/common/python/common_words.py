"""A module of a prebuilt layer (python/ in its content, as Lambda mounts it under /opt/python)."""

WORD = "from the common layer"
