"""What a request sees when the session store fails: ``503`` with ``Retry-After``.

Stores raise their own errors (they know nothing of Flask); the session turns
a failed store call into :class:`SessionUnavailable`, a werkzeug
``ServiceUnavailable``, logs it once, and remembers it: the rest of the
request (its error handler included) never calls the store again.
"""

from __future__ import annotations

import logging
import math

from werkzeug.exceptions import ServiceUnavailable

from .stores.errors import MIN_RETRY_AFTER, StoreUnavailableError

logger = logging.getLogger("flask_sessionstore")

#: ``Retry-After`` (seconds) for a store error that does not say how long to wait.
DEFAULT_RETRY_AFTER = 5


class SessionUnavailable(ServiceUnavailable):
    """The session store failed; the response is ``503`` with ``Retry-After``.

    Register an error handler for 503 to render your own page; the store's
    own error is the ``__cause__``.
    """

    description = "The session store is unavailable. Please try again shortly."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_seconds = retry_after


def store_failure(store_name: str, action: str, sid: str, exc: Exception) -> SessionUnavailable:
    """Log a failed store call once and return the 503 to raise (chained by the caller)."""
    if isinstance(exc, StoreUnavailableError):
        retry_after = math.ceil(max(exc.retry_after, MIN_RETRY_AFTER))
    else:
        retry_after = DEFAULT_RETRY_AFTER
    text = str(exc)
    if len(text) > 300:
        text = text[:300] + "..."
    fast = isinstance(exc, StoreUnavailableError) and exc.fast_fail
    logger.log(
        logging.WARNING if fast else logging.ERROR,
        "%s: %s of session %.8s... failed, responding 503 (Retry-After: %d): %s: %s",
        store_name,
        action,
        sid or "(new)",
        retry_after,
        type(exc).__name__,
        text,
    )
    return SessionUnavailable(retry_after)
