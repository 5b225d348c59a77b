"""Domain errors shared by the logic and data layers; the API layer maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base of every error a client may be told about."""


@dataclass(frozen=True)
class FieldError:
    """One invalid field: its dotted path and a sentence saying what is wrong."""

    field: str
    message: str


class InvalidInput(DomainError):
    """The request's fields break the record's rules (HTTP 422)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class InvalidParameter(DomainError):
    """A key in the URL or a query parameter is malformed (HTTP 400)."""


class InvalidCursor(DomainError):
    """A pagination cursor that this service did not issue, or that was altered (HTTP 400)."""


class Unauthenticated(DomainError):
    """Sign-in is required and the request carries no verified identity (HTTP 401)."""


class Forbidden(DomainError):
    """The caller may not do this (HTTP 403); never raised for another owner's record (that is 404)."""


class RecordNotFound(DomainError):
    """No record has that key (HTTP 404)."""


class InvalidStoredRecord(DomainError):
    """The stored row breaks the record's rules (written by another tool) in a way the request
    cannot get past (HTTP 409): the errors name the fields."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class RecordBusy(DomainError):
    """The record kept changing while a merge patch was applied (HTTP 409: retry)."""


class RecordExists(DomainError):
    """A record with that key exists already (HTTP 409)."""


class VersionMismatch(DomainError):
    """The record's version is not the one the client expected (HTTP 412)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the record is at version {current_version}")
        self.current_version = current_version


class StoreUnavailable(DomainError):
    """DynamoDB throttled or could not be reached after retries (HTTP 503)."""


class InvalidFile(DomainError):
    """A file to import cannot be read as records at all: no valid header, not text (HTTP 422)."""


class FileTooLarge(DomainError):
    """A file to import is over the import size limit (HTTP 413)."""


class WriteRefused(Exception):
    """Storage's answer to a conditional write on a record that exists but fails the condition:
    `current` is what is stored (keyed by field name). Not a client-facing error: the use-case
    decides what it means (412, or 409 for a stored record it cannot work with)."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.current = current
