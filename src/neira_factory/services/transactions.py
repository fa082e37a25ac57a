"""Units of work for the use cases: a read, or a write whose events are logged with it and published (and
whose cache entries are dropped) once it has committed."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy.exc import SQLAlchemyError

from ..domain.events import Event
from ..nervous.events import Logged
from ..nervous.tail import EventTail
from ..store import Database, UnitOfWork

log = logging.getLogger(__name__)


class Transactions:
    def __init__(self, db: Database, tail: EventTail, on_commit: Callable[[list[Event]], None]):
        self.db = db
        self.tail = tail
        self.on_commit = on_commit  # drops what the events changed from this replica's caches

    def read(self) -> AbstractContextManager[UnitOfWork]:
        return self.db.unit_of_work(write=False)

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction whose events are logged with it and published once it has committed."""
        with self.db.unit_of_work(write=True) as uow:
            yield uow
        self.on_commit(uow.events)
        if uow.logged:
            try:
                self.tail.committed([Logged(*row) for row in uow.logged])
            except SQLAlchemyError:  # committed all the same: the tail's thread publishes them when it can
                log.warning("events %s..%s are committed but not yet published: the event log cannot be read "
                            "right now", uow.logged[0][0], uow.logged[-1][0], exc_info=True)
