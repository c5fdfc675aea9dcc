"""The periodic schedule (DESIGN §9) as data, and the in-process scheduler used without Redis."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

log = logging.getLogger("flask_escalated.jobs")


@dataclass(frozen=True)
class Periodic:
    """One periodic job: a function in :mod:`flask_escalated.jobs.tasks`, every N seconds."""

    name: str
    task: str
    interval: int
    queue: str = "escalated"

    def function(self) -> Callable[..., Any]:
        module = importlib.import_module("flask_escalated.jobs.tasks")
        return getattr(module, self.task)  # type: ignore[no-any-return]

    def available(self) -> bool:
        module = importlib.import_module("flask_escalated.jobs.tasks")
        return hasattr(module, self.task)


MINUTE, HOUR, DAY = 60, 3600, 86400

#: Every periodic job. Entries whose task does not exist (yet) are skipped by the schedulers.
SCHEDULE: tuple[Periodic, ...] = (
    Periodic("check-sla", "check_sla", MINUTE),
    Periodic("evaluate-escalations", "evaluate_escalations", MINUTE),
    Periodic("wake-snoozed", "wake_snoozed", MINUTE),
    Periodic("deliver-webhooks", "deliver_webhooks", MINUTE, queue="escalated-webhooks"),
    Periodic("deliver-mail", "deliver_mails", MINUTE, queue="escalated-mail"),
    Periodic("flush-kb-views", "flush_kb_views", MINUTE),
    Periodic("run-automations", "run_automations", 5 * MINUTE),
    Periodic("close-resolved", "close_resolved", HOUR),
    Periodic("purge-activities", "purge_activities", DAY),
)


def active_schedule() -> list[Periodic]:
    return [p for p in SCHEDULE if p.available()]


class InlineScheduler:
    """Runs the schedule in a daemon thread of this process (no Redis needed).

    Each run gets its own app context; a failing run is logged and retried at its next turn.
    """

    def __init__(self, app: Flask, schedule: list[Periodic] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.schedule = schedule if schedule is not None else active_schedule()
        self.clock = clock
        self.next_run = {p.name: 0.0 for p in self.schedule}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[str]:
        """Run every job whose time has come; returns their names."""
        ran = []
        for periodic in self.schedule:
            if self.clock() < self.next_run[periodic.name]:
                continue
            self.next_run[periodic.name] = self.clock() + periodic.interval
            try:
                with self.app.app_context():
                    periodic.function()()
            except Exception:
                log.exception("periodic job %s failed", periodic.name)
            ran.append(periodic.name)
        return ran

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="escalated-scheduler",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            waits = [self.next_run[p.name] - self.clock() for p in self.schedule]
            self._stop.wait(max(1.0, min(waits, default=60.0)))
