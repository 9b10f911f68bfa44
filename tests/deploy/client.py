"""Bounded HTTP requests to a deployment-matrix server, with an explicit cookie.

Each request uses a fresh ``http.client`` connection with a timeout, so a
worker that stopped answering (a deadlock) costs at most that timeout and
shows up as :class:`NoAnswer`, never as a hang.  Cookies are passed
explicitly: several clients of a scenario share one session cookie.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

#: Seconds a request may take before it counts as unanswered.  Normal
#: requests take milliseconds, a store gives up after its own 5 s timeout,
#: and a request held in flight waits at most ``app.IN_FLIGHT_WAIT`` (3 s)
#: more for its go-ahead.
REQUEST_TIMEOUT = 6.0


class NoAnswer(Exception):
    """The server accepted the request but did not answer within the timeout."""


@dataclass(frozen=True)
class Reply:
    """One answered request."""

    status: int
    body: Any
    #: ``name=value`` of the response's ``Set-Cookie``, None when it set none.
    cookie: str | None
    #: The whole ``Set-Cookie`` header, None when it set none.
    set_cookie: str | None


class Deadline:
    """A point in time a scenario must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left (never below zero)."""
        return max(0.0, self.end - time.monotonic())

    def passed(self) -> bool:
        """Whether the deadline has passed."""
        return time.monotonic() >= self.end


def send(
    port: int,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Reply:
    """Send one request to 127.0.0.1:``port``; :class:`NoAnswer` after ``timeout`` s."""
    headers = {"Cookie": cookie} if cookie else {}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=max(timeout, 0.1))
    started = time.monotonic()
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except TimeoutError as exc:
        raise NoAnswer(
            f"{method} {path}: no answer within {time.monotonic() - started:.1f} s"
        ) from exc
    finally:
        connection.close()
    set_cookie = response.getheader("Set-Cookie")
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")[:500]
    return Reply(
        status=response.status,
        body=body,
        cookie=set_cookie.split(";", 1)[0] if set_cookie else None,
        set_cookie=set_cookie,
    )
