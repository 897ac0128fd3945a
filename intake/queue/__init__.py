"""How jobs reach workers.

The job table decides who runs what; a queue only tells workers there is work.
Embedded (the default): ``intake serve`` starts worker processes that take the
queued job due soonest straight from the table.  With ``INTAKE_BROKER_URL``:
each job is also sent as a Celery message (late acknowledgement), and
``intake worker`` runs Celery workers on any machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Dispatcher(Protocol):
    """Hands job ids to workers; returns the ids it handed over."""

    def send(self, case_ids: Sequence[str]) -> list[str]: ...

    def ping(self) -> None:
        """Raise when the queue cannot be reached."""
        ...


class TableDispatcher:
    """The embedded queue: the job table itself; workers poll it, nothing to send."""

    def send(self, case_ids: Sequence[str]) -> list[str]:
        return []

    def ping(self) -> None:
        return None
