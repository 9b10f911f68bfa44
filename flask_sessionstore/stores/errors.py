"""The errors a store raises, and the too-big message every store shares.

Stores know nothing of Flask: the session layer turns
:class:`StoreUnavailableError` (and any other failure of a store call) into
``503 Service Unavailable`` with ``Retry-After``; a
:class:`SessionTooLargeError` is a programming error and stays one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("flask_sessionstore")

#: Never tell a client to wait less than this long (seconds) before retrying.
MIN_RETRY_AFTER = 1


class StoreUnavailableError(ConnectionError):
    """The store could not be reached, or did not answer within its ``timeout``.

    ``retry_after`` is how long (seconds) the store expects to stay
    unavailable; the session layer sends it as ``Retry-After``.  The message
    names the store and never contains a password or a secret.
    """

    def __init__(
        self, message: str, *, retry_after: float = MIN_RETRY_AFTER, fast_fail: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = max(float(retry_after), MIN_RETRY_AFTER)
        #: True when the store was not contacted (known down, failing fast).
        self.fast_fail = fast_fail


class SessionTooLargeError(ValueError):
    """A session is too big for its store; raised before anything is written.

    The stored copy (if any) is left as it was.  ``size`` and ``limit`` are in
    bytes of the stored form; ``largest`` lists the biggest data keys with
    their sizes.
    """

    def __init__(
        self, message: str, *, size: int, limit: int, largest: list[tuple[str, int]]
    ) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
        self.largest = largest


def warn_unreadable(store: str, sid: str, exc: Exception) -> None:
    """Log, once per read, that a stored session could not be read and counts as missing.

    A corrupt or foreign value (bad JSON, a failed decryption) must not turn
    into a 500 on every request of its cookie holder: the request gets a new
    session instead, and the log says why.
    """
    logger.warning(
        "%s: session %.8s... is unreadable and treated as missing (%s: %s)",
        store,
        sid,
        type(exc).__name__,
        exc,
    )


def human_size(size: float) -> str:
    """``1536`` -> ``'1.5 KB'`` (binary multiples, as MongoDB states its 16 MB limit)."""
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def too_large(
    store: str, sid: str, session: Mapping[str, Any], size: int, limit: int
) -> SessionTooLargeError:
    """The error for ``session`` of ``size`` bytes over ``limit``, naming its largest keys."""
    sizes = sorted(
        (
            (key, len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")))
            for key, value in session.items()
            if key != "cookie"
        ),
        key=lambda item: item[1],
        reverse=True,
    )[:3]
    keys = ", ".join(f"{key!r} ({human_size(n)})" for key, n in sizes) or "none"
    return SessionTooLargeError(
        f"session {sid[:8]}... is {human_size(size)} when stored, over the "
        f"{human_size(limit)} limit of {store}; largest keys: {keys}. Nothing was "
        "written (the stored copy is unchanged): keep large data elsewhere and store "
        "a reference to it in the session",
        size=size,
        limit=limit,
        largest=sizes,
    )
