"""The use-cases the routes call, as the composition root (`serverless_crud.wiring`) provides them:
the API layer never builds a service, a repository or a client itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from serverless_crud.logic.history import HistoryService
    from serverless_crud.logic.jobs import JobService
    from serverless_crud.logic.records import RecordService


class Services(Protocol):
    """What the routes need, built on first use for the instance's settings."""

    def records(self) -> RecordService:
        """The record use-cases."""
        ...

    def jobs(self) -> JobService:
        """The jobs' use-cases (StoreUnavailable when the stack has no jobs)."""
        ...

    def history(self) -> HistoryService:
        """The history's use-cases (StoreUnavailable when the stack has no history)."""
        ...

    def idempotency_store(self) -> Any:
        """Powertools' persistence layer for Idempotency-Key responses."""
        ...


_installed: list[Services] = []


def install(services: Services) -> None:
    """Hand the API its services (the composition root does, once per process)."""
    _installed[:] = [services]


def current() -> Services:
    """The services installed."""
    if not _installed:
        raise RuntimeError("no services installed: serverless_crud.wiring wires the API")
    return _installed[0]


def records() -> RecordService:
    """The record use-cases."""
    return current().records()


def jobs() -> JobService:
    """The jobs' use-cases."""
    return current().jobs()


def history() -> HistoryService:
    """The history's use-cases."""
    return current().history()
