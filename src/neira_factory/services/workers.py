"""Background work beside the API: one `Worker` protocol (the event tail, the webhook notifier, the runtime's
supervisor, the training workers) and one host that starts them in order and stops them in reverse, so a
single lifespan owns them all."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Worker(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class OnStop:
    """A worker that only does something at shutdown (closing the event bus, so open streams end)."""

    def __init__(self, name: str, stop: Callable[[], None]):
        self.name = name
        self._stop = stop

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._stop()


class WorkerHost:
    def __init__(self, workers: Sequence[Worker]):
        self.workers = tuple(workers)
        self._started: list[Worker] = []

    def start(self) -> None:
        """Start each worker in order; when one fails to start, stop those already started and raise."""
        for worker in self.workers:
            try:
                worker.start()
            except BaseException:
                self.stop()
                raise
            self._started.append(worker)

    def stop(self) -> None:
        """Stop the started workers, the last started first; one that fails to stop does not keep the others
        running."""
        while self._started:
            worker = self._started.pop()
            try:
                worker.stop()
            except Exception:
                log.exception("the %s worker did not stop cleanly", worker.name)
