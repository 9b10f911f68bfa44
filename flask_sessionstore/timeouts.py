"""Idle and absolute timeouts, and when a read-only request refreshes the store.

Pure functions of their inputs (no Flask, no store calls), so the rules of
api.md sections 5 and 9 can be read and tested in one place:

* a session is **over** when ``last_seen_at + idle`` or ``created_at +
  absolute`` has passed;
* its store expiry is **capped** at the earlier of the two;
* a read-only request **refreshes** the store's expiry only when it would
  move by more than the touch interval: ``touch_after`` seconds, every time
  for 0, or (``None``, the default) 1 % of the session's lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .records import Record

#: ``touch_after=None``: refresh when the expiry would move by more than this fraction.
AUTO_TOUCH_FRACTION = 0.01


@dataclass(frozen=True)
class Timeouts:
    """The ``idle_timeout`` and ``absolute_timeout`` options, in seconds (None: off)."""

    idle: float | None = None
    absolute: float | None = None

    @property
    def enabled(self) -> bool:
        """Whether either timeout is set."""
        return self.idle is not None or self.absolute is not None

    def is_over(self, record: Record, now: datetime) -> bool:
        """Whether a session with ``record`` has ended by ``now``.

        A record without timestamps (a session an Express app created) has
        not: it gets them at its first save or refresh here.
        """
        end = self.deadline(record.created_at, record.last_seen_at)
        return end is not None and now >= end

    def deadline(
        self, created_at: datetime | None, last_seen_at: datetime | None
    ) -> datetime | None:
        """The earliest moment either timeout ends the session, or None."""
        if self.idle is None and self.absolute is None:
            return None
        ends = []
        if self.idle is not None and last_seen_at is not None:
            ends.append(last_seen_at + timedelta(seconds=self.idle))
        if self.absolute is not None and created_at is not None:
            ends.append(created_at + timedelta(seconds=self.absolute))
        return min(ends, default=None)

    def absolute_end(self, created_at: datetime | None) -> datetime | None:
        """``created_at + absolute``: no cookie or store expiry may be later."""
        if self.absolute is None or created_at is None:
            return None
        return created_at + timedelta(seconds=self.absolute)


#: No timeouts (the default).
NO_TIMEOUTS = Timeouts()


def touch_interval(
    touch_after: float | None,
    cookie_max_age: float | None,
    idle: float | None,
    ttl: float | None,
) -> float:
    """Seconds by which the store's expiry must move before a read-only request writes it."""
    if touch_after is not None:
        return touch_after
    lifetimes = [x for x in (cookie_max_age, idle, ttl) if x]
    return AUTO_TOUCH_FRACTION * min(lifetimes) if lifetimes else 0.0


def refresh_due(
    stored_expiry: datetime | None,
    new_expiry: datetime,
    touch_after: float | None,
    interval: float,
) -> bool:
    """Whether a read-only request should refresh a store expiry of ``stored_expiry``."""
    if stored_expiry is None or touch_after == 0:
        return True
    moved = (new_expiry - stored_expiry).total_seconds()
    if touch_after is None:
        return moved > interval
    return moved >= interval
