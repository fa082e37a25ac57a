"""Following the factory's events: a subscription from a client's last event id gets what the client missed
(the bus's recent events, else the event log), then each new event, once and in id order."""
from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ..domain.actors import Actor
from ..domain.events import Event
from ..nervous.events import CLOSED, EventBus, Item, Replay
from .ports import Authorize, Read


@dataclass(frozen=True)
class Deps:
    """What following the events uses: the event bus (its recent events, and the event log behind it), a read
    and the policy (who may follow)."""

    bus: EventBus
    read: Read
    authorize: Authorize


def authorize(f: Deps, actor: Actor) -> None:
    """403 unless `actor` may read the events (it reads the database: call it off the event loop)."""
    with f.read() as uow:
        f.authorize(uow, actor, "events.read")


POLL_S = 0.1  # how often an idle subscription looks at its queue and at the client


@dataclass
class Subscription:
    """One client's events of the given type prefixes (all when none): `notes` and `missed` first, then `live()`."""

    notes: list[str]  # what the client should be told first: events it missed that are gone, an unknown id
    missed: list[tuple[int, Event]]
    _queue: queue.Queue[Item]
    _seen: int  # the client has every event up to this id
    _prefixes: tuple[str, ...]

    async def live(self, idle_s: float,
                   gone: Callable[[], Awaitable[bool]]) -> AsyncIterator[tuple[int, Event] | None]:
        """New events as they come, and None after each `idle_s` without one; ends when `gone()` says the client
        went, or the bus closes."""
        last_write = time.monotonic()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                if await gone():
                    return
                if time.monotonic() - last_write >= idle_s:
                    yield None
                    last_write = time.monotonic()
                await asyncio.sleep(min(POLL_S, idle_s))
                continue
            if item is CLOSED:
                return
            event_id, event = item
            # a client ahead of this replica (it saw them on another) skips the first few
            if event_id > self._seen and _wanted(event, self._prefixes):
                yield event_id, event
                last_write = time.monotonic()


def _wanted(event: Event, prefixes: tuple[str, ...]) -> bool:
    return not prefixes or event.type.startswith(prefixes)


def _notes(last_id: int, missed: Replay) -> list[str]:
    notes = []
    if missed.first_kept > last_id + 1:
        notes.append(f"events {last_id + 1}..{missed.first_kept - 1} are no longer kept")
    if missed.seen < last_id:
        notes.append(f"event {last_id} is not in the event log (was the database reset?): new events follow")
    return notes


@asynccontextmanager
async def subscription(f: Deps, *, last_id: int | None, prefixes: tuple[str, ...]) -> AsyncIterator[Subscription]:
    """Subscribe, then read what the client missed after `last_id` (None: a new client, nothing missed); the
    subscription ends with the block."""
    q, upto = f.bus.subscribe_at()
    try:
        # the replay may read the event log: not on the event loop
        missed = Replay([], 0, upto) if last_id is None else await asyncio.to_thread(f.bus.replay, last_id, upto)
        notes = [] if last_id is None else _notes(last_id, missed)
        yield Subscription(notes, [(event_id, event) for event_id, event in missed.events if _wanted(event, prefixes)],
                           q, missed.seen, prefixes)
    finally:
        f.bus.unsubscribe(q)
