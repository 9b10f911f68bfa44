"""Option checks the bundled stores share, so each error reads the same in every store.

Every message names the store and the option, the bad value and what would
be accepted.
"""

from __future__ import annotations

from typing import Any

from ..cookie import Duration, to_seconds

#: The default ``max_session_size``: MongoDB's document limit, so what works here works there.
DEFAULT_MAX_SIZE = 16 * 1024 * 1024


def positive_duration(value: Duration, option: str) -> float:
    """Seconds of a duration ``option`` (named like ``"RedisStore ttl"``) that must be above 0."""
    seconds = to_seconds(value, option)
    if not seconds:
        raise ValueError(f"{option} must be a positive duration, not {value!r}")
    return seconds


def check_max_session_size(store: str, value: Any) -> None:
    """``max_session_size``: a positive number of bytes, or None for no limit."""
    if value is not None and (not isinstance(value, int) or value <= 0):
        raise ValueError(
            f"{store} max_session_size must be a positive number of bytes or None, not {value!r}"
        )
