"""Holding a request in flight: marker files shared by the test and the server.

A view calls :meth:`Signals.arrive` once it has loaded and changed the
session, then :meth:`Signals.wait_for_go`; the test waits for the arrival,
does whatever must happen while the request is in flight (a logout, a
revoke), then calls :meth:`Signals.go`.  Files work across every worker
shape (threads, greenlets, several processes) without a shared server, and
polling them with ``time.sleep`` yields under gevent.  Every wait is bounded.
"""

from __future__ import annotations

import time
from pathlib import Path

POLL = 0.005


class Signals:
    """The marker files of one server run, in ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _marker(self, token: str, what: str) -> Path:
        if not token.isalnum():
            raise ValueError(f"a signal token must be alphanumeric, not {token!r}")
        return self.folder / f"{token}.{what}"

    # -- the server side --------------------------------------------------

    def arrive(self, token: str) -> None:
        """Say that the request ``token`` has reached its waiting point."""
        self._marker(token, "arrived").touch()

    def wait_for_go(self, token: str, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) for the test's go-ahead; False if it never came."""
        return _wait(self._marker(token, "go"), timeout)

    # -- the test side ------------------------------------------------------

    def wait_for_arrival(self, token: str, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until request ``token`` is in flight and waiting."""
        return _wait(self._marker(token, "arrived"), timeout)

    def go(self, token: str) -> None:
        """Let the request ``token`` finish."""
        self._marker(token, "go").touch()


def _wait(marker: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True
