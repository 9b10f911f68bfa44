"""Warnings about ``app.config`` keys that look like session settings but do nothing.

Two mistakes cost users an hour each: a typo (``SESSION_ROLLNG``) is accepted
silently, and keys left over from Flask-Session (``SESSION_TYPE``...) do
nothing here.  :func:`check_config_keys` warns about both once, at
``init_app``, naming the key and what to use instead.
"""

from __future__ import annotations

import difflib
import inspect
import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class SessionConfigWarning(UserWarning):
    """An ``app.config`` key or option value that is probably a mistake."""


#: The ``SESSION_*`` keys this package reads (its own and Flask's).
KNOWN_KEYS = frozenset(
    {
        "SESSION_SECRET",
        "SESSION_STORE",
        "SESSION_COOKIE",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_PATH",
        "SESSION_COOKIE_DOMAIN",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_PARTITIONED",
        "SESSION_COOKIE_MAX_AGE",
        "SESSION_GENID",
        "SESSION_PROXY",
        "SESSION_RESAVE",
        "SESSION_ROLLING",
        "SESSION_SAVE_UNINITIALIZED",
        "SESSION_UNSET",
        "SESSION_USER_KEY",
        "SESSION_TRACK_CLIENT",
        "SESSION_IDLE_TIMEOUT",
        "SESSION_ABSOLUTE_TIMEOUT",
        "SESSION_MAX_PER_USER",
        "SESSION_REFRESH_EACH_REQUEST",
    }
)

#: Flask-Session's keys, and what to do instead.
FLASK_SESSION_KEYS: Mapping[str, str] = {
    "SESSION_TYPE": "pass a store instead: SESSION_STORE = MongoStore(...), RedisStore(...) "
    "or MemoryStore()",
    "SESSION_PERMANENT": "set session.permanent = True in the view, or give the cookie a "
    "max_age (SESSION_COOKIE_MAX_AGE)",
    "SESSION_USE_SIGNER": "nothing: the session ID cookie is always signed",
    "SESSION_KEY_PREFIX": "RedisStore(prefix=...); MongoStore keys documents by session ID",
    "SESSION_ID_LENGTH": "SESSION_GENID, a callable (request) -> str",
    "SESSION_SERIALIZATION_FORMAT": "nothing: sessions are stored as JSON",
    "SESSION_REDIS": "SESSION_STORE = RedisStore(client=...)",
    "SESSION_MONGODB": "SESSION_STORE = MongoStore(client=...)",
    "SESSION_MONGODB_DB": "MongoStore(db_name=...)",
    "SESSION_MONGODB_COLLECT": "MongoStore(collection_name=...)",
    "SESSION_CACHELIB": "SESSION_STORE = MemoryStore() or another store",
    "SESSION_FILE_DIR": "a shared store: MongoStore or RedisStore",
    "SESSION_FILE_THRESHOLD": "a shared store: MongoStore or RedisStore",
    "SESSION_FILE_MODE": "a shared store: MongoStore or RedisStore",
    "SESSION_MEMCACHED": "a shared store: MongoStore or RedisStore",
    "SESSION_SQLALCHEMY": "a shared store: MongoStore or RedisStore",
    "SESSION_SQLALCHEMY_TABLE": "a shared store: MongoStore or RedisStore",
    "SESSION_CLEANUP_N_REQUESTS": "nothing: bundled stores remove expired sessions themselves",
}


def warn_user(message: str, category: type[Warning]) -> None:
    """Warn, pointing at the first frame outside this package (the user's line)."""
    frame = inspect.currentframe()
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR + os.sep
    ):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def check_config_keys(config: Mapping[str, Any]) -> None:
    """Warn once per ``init_app`` about leftover Flask-Session keys and ``SESSION_*`` typos."""
    keys = [key for key in config if isinstance(key, str) and key.startswith("SESSION_")]
    leftovers = [key for key in keys if key in FLASK_SESSION_KEYS]
    if leftovers:
        advice = "; ".join(f"{key}: {FLASK_SESSION_KEYS[key]}" for key in leftovers)
        warn_user(
            f"flask-sessionstore ignores these Flask-Session settings: {advice}",
            SessionConfigWarning,
        )
    for key in unknown_keys(keys):
        # only near-misses: other extensions may have SESSION_* keys of their own
        close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=0.85)
        if close:
            warn_user(
                f"app.config[{key!r}] is not a flask-sessionstore or Flask setting and "
                f"does nothing; did you mean {close[0]}?",
                SessionConfigWarning,
            )


def unknown_keys(keys: Iterable[str]) -> list[str]:
    """The ``SESSION_*`` keys that neither this package, Flask nor Flask-Session reads."""
    return [key for key in keys if key not in KNOWN_KEYS and key not in FLASK_SESSION_KEYS]
