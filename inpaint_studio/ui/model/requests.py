"""Request ids: a result is applied only if it answers the newest request of its kind (no Qt).

Work runs on another thread; the user may ask again (or cancel) before an older job returns. Each request
gets an increasing id per slot ("inpaint", "mask", "edges"); `accept(slot, id)` tells whether a returning
result is still wanted."""

from __future__ import annotations

import itertools
import threading


class RequestTracker:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._cancel_events: dict[int, threading.Event] = {}

    def new(self, slot: str) -> tuple[int, threading.Event]:
        """Start a request; any older request in the same slot is cancelled (its result will be dropped)."""
        old = self._latest.get(slot)
        if old is not None:
            self.cancel(old)
        rid = next(self._ids)
        self._latest[slot] = rid
        event = threading.Event()
        self._cancel_events[rid] = event
        return rid, event

    def cancel(self, rid: int) -> None:
        event = self._cancel_events.get(rid)
        if event is not None:
            event.set()

    def cancel_all(self) -> None:
        for event in self._cancel_events.values():
            event.set()

    def is_current(self, slot: str, rid: int) -> bool:
        event = self._cancel_events.get(rid)
        return self._latest.get(slot) == rid and event is not None and not event.is_set()

    def finish(self, slot: str, rid: int) -> bool:
        """Mark `rid` done; True if its result should be applied."""
        wanted = self.is_current(slot, rid)
        self._cancel_events.pop(rid, None)
        if self._latest.get(slot) == rid:
            del self._latest[slot]
        return wanted

    def pending(self) -> list[int]:
        return [rid for rid, ev in self._cancel_events.items() if not ev.is_set()]
