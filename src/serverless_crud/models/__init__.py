"""The record, defined once. `models.keys` is pydantic-free (read paths); `models.record` loads pydantic."""
