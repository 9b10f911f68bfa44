"""``ExpiryHeap``: which of MemoryStore's sessions are due, without full scans.

Unlike express-session's MemoryStore, :class:`~flask_sessionstore.MemoryStore`
reclaims expired sessions even when nobody reads them again.  Every live
entry has one *current* slot ``(due, sid)`` in a binary heap, at or before
its expiry, and each store call first pops the slots that are due
(amortised O(log n)).  A slot that comes due for an entry whose expiry has
moved on is pushed again at the new expiry, so a touch (a later expiry)
costs no heap operation.  An earlier expiry, or a removed session, leaves
its old slot behind as *stale*; once there are more than 1024 stale slots
and they outnumber the current ones, the heap is rebuilt from the current
slots, so destroyed sessions do not pile up.

Nothing here locks: the store calls it with its own lock held.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Protocol


class Expiring(Protocol):
    """What the heap reads of a store entry."""

    @property
    def expiry(self) -> float:
        """When the entry expires (POSIX timestamp)."""


class ExpiryHeap:
    """The due times of one store's entries; ``len()`` counts its slots, stale ones too."""

    def __init__(self) -> None:
        # (due, sid); each sid has one current slot, at or before its expiry
        self._heap: list[tuple[float, str]] = []
        self._scheduled: dict[str, float] = {}
        self._stale_slots = 0

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, sid: str, due: float) -> None:
        """Make sure ``sid`` has a slot at or before ``due``."""
        current = self._scheduled.get(sid)
        if current is not None:
            if current <= due:
                return  # the earlier slot will find the later expiry and move on
            self._stale_slots += 1
        self._scheduled[sid] = due
        heapq.heappush(self._heap, (due, sid))

    def unschedule(self, sid: str) -> None:
        """Forget ``sid`` (its session was removed)."""
        if self._scheduled.pop(sid, None) is not None:
            self._stale_slots += 1  # its heap slot stays until due or a rebuild

    def reclaim(
        self,
        now: float,
        limit: float,
        entries: Mapping[str, Expiring],
        remove: Callable[[str], None],
    ) -> None:
        """Pop at most ``limit`` due slots, calling ``remove`` for each expired entry."""
        # A bounded batch per call, so a mass expiry never stalls one
        # request; expired entries left for later are already invisible.
        heap = self._heap
        while heap and heap[0][0] <= now and limit > 0:
            limit -= 1
            due, sid = heapq.heappop(heap)
            if self._scheduled.get(sid) != due:
                self._stale_slots -= 1
                continue  # superseded, or its session was removed
            entry = entries.get(sid)
            if entry is None or entry.expiry <= now:
                del self._scheduled[sid]  # (its slot is used up, not stale)
                remove(sid)
            else:
                self._scheduled[sid] = entry.expiry
                heapq.heappush(heap, (entry.expiry, sid))
        if self._stale_slots > 1024 and self._stale_slots > len(heap) // 2:
            # destroyed sessions left their slots behind: rebuild from the live ones
            self._heap = [(due, sid) for sid, due in self._scheduled.items()]
            heapq.heapify(self._heap)
            self._stale_slots = 0

    def clear(self) -> None:
        """Forget every slot."""
        self._heap.clear()
        self._scheduled.clear()
        self._stale_slots = 0
