"""``Breaker``: fail fast while a store is known to be down.

Without it, every request that needs the session would wait the store's full
``timeout`` during an outage, and a few such requests hold every thread of a
worker.  After a failure the breaker *opens*: calls fail at once with
:class:`~flask_sessionstore.stores.errors.StoreUnavailableError` (a few
microseconds) until the cool-down has passed; then exactly one call, the
probe, goes through.  If it succeeds the breaker closes; if it fails the
cool-down doubles, up to ``max_cooldown``.

Health is process state shared by all requests on purpose (it is not a
request's state).  The lock is only held to read and write a few numbers,
never across I/O, so it is safe under threads, gevent and ``--preload``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import StoreUnavailableError


class Breaker:
    """The health of one store in this process.

    :param name: how errors name the store, e.g. ``MongoStore(app.sessions)``.
    :param cooldown: seconds to fail fast after the first failure.
    :param max_cooldown: the longest cool-down after repeated failed probes.
    :param clock: a monotonic clock (tests pass their own).
    """

    def __init__(
        self,
        name: str,
        *,
        cooldown: float = 1.0,
        max_cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self._reason = ""

    @property
    def is_open(self) -> bool:
        """Whether the store is currently known to be down."""
        return self._failures > 0

    def before_call(self) -> bool:
        """Raise at once while the store is known down; True when this call is the probe."""
        if not self._failures:
            return False
        with self._lock:
            now = self._clock()
            if self._failures and (now < self._open_until or self._probing):
                wait = max(self._open_until - now, 0.0) if not self._probing else self.cooldown
                raise StoreUnavailableError(
                    f"{self.name} is unavailable ({self._reason}); failing fast "
                    f"until a probe succeeds (next in {wait:.1f} s)",
                    retry_after=math.ceil(max(wait, 1.0)),
                    fast_fail=True,
                )
            if self._failures:
                self._probing = True
                return True
        return False

    def succeeded(self) -> None:
        """Record a call that reached the store: it is up."""
        if self._failures or self._probing:
            with self._lock:
                self._failures = 0
                self._probing = False

    def release_probe(self) -> None:
        """The probing call was interrupted: the next call may probe."""
        with self._lock:
            self._probing = False

    def failed(self, reason: str) -> float:
        """Record a call that could not reach the store; returns the cool-down (seconds)."""
        with self._lock:
            self._failures += 1
            self._probing = False
            wait = min(self.cooldown * 2.0 ** (self._failures - 1), self.max_cooldown)
            self._open_until = self._clock() + wait
            self._reason = reason
            return wait

    def guard(
        self,
        outages: tuple[type[BaseException], ...],
        describe: Callable[[BaseException], str],
    ) -> Guard:
        """Run one store call under the breaker (``with breaker.guard(...):``).

        Fails fast while the store is known down.  An exception of a type in
        ``outages`` (the driver's connection and timeout errors) opens the
        breaker and is raised as :class:`StoreUnavailableError` (chained to
        the driver's error, whose message ``describe`` shortens); any other
        exception means the store answered, so the breaker closes.
        """
        return Guard(self, outages, describe)


class Guard:
    """The context manager of :meth:`Breaker.guard` (a class: it runs on every store call)."""

    __slots__ = ("breaker", "describe", "outages")

    def __init__(
        self,
        breaker: Breaker,
        outages: tuple[type[BaseException], ...],
        describe: Callable[[BaseException], str],
    ) -> None:
        self.breaker, self.outages, self.describe = breaker, outages, describe

    def __enter__(self) -> None:
        self.breaker.before_call()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: Any
    ) -> None:
        breaker = self.breaker
        if exc is None:
            breaker.succeeded()
        elif isinstance(exc, self.outages):
            reason = self.describe(exc)
            wait = breaker.failed(reason)
            raise StoreUnavailableError(
                f"{breaker.name} is unavailable: {reason}", retry_after=math.ceil(wait)
            ) from exc
        elif isinstance(exc, Exception):
            breaker.succeeded()  # an answer, even if an error: the store is up
        else:
            breaker.release_probe()  # interrupted (GreenletExit, ...): let another probe
