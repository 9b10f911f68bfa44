"""The extension's options, checked once at ``init_app`` and frozen.

Each keyword of :class:`~flask_sessionstore.SessionStore` falls back to an
``app.config`` key; this module turns both into one validated
:class:`SessionOptions` so that a bad value fails at start-up with a message
naming the keyword or the config key it came from, the value (never a
secret's) and what is accepted.
"""

from __future__ import annotations

import re
import secrets as _secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Union, cast

from flask import Flask, Request

from .cookie import to_seconds
from .cookie_options import CookieSource
from .stores.base import Store
from .timeouts import NO_TIMEOUTS, Timeouts

CookieOptions = Mapping[str, Any]
#: The ``cookie`` option: a dict, or a callable ``(request) -> dict``.
CookieOption = Union[CookieOptions, Callable[[Request], CookieOptions]]
#: The ``secret`` option: one secret or a non-empty list (element 0 signs).
SecretOption = Union[str, bytes, Sequence[Union[str, bytes]]]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def default_genid(request: Request) -> str:
    """24 random bytes, URL-safe base64: 32 characters, as express's ``uid-safe``."""
    return _secrets.token_urlsafe(24)


@dataclass(frozen=True)
class SessionOptions:
    """Validated options of one app (what express-session's middleware closes over)."""

    secrets: tuple[bytes, ...] = field(repr=False)
    store: Store
    name: str
    cookie: CookieSource
    genid: Callable[[Request], str]
    proxy: bool | None
    resave: bool
    rolling: bool
    save_uninitialized: bool
    unset: Literal["keep", "destroy"]
    user_key: str | None = "_user_id"
    track_client: bool = True
    timeouts: Timeouts = NO_TIMEOUTS
    max_sessions_per_user: int | None = None

    def __repr__(self) -> str:
        return (
            f"SessionOptions(store={self.store!r}, name={self.name!r}, "
            f"secrets=<{len(self.secrets)} hidden>, unset={self.unset!r}, "
            f"user_key={self.user_key!r})"
        )


def resolve_secrets(value: Any, option: str) -> tuple[bytes, ...]:
    """Turn the ``secret`` option into the tuple of keys (index 0 signs).

    Errors name the option and the type of a bad element, never its value.
    """
    values = [value] if isinstance(value, (str, bytes)) else value
    if not isinstance(values, Sequence) or not values:
        if isinstance(values, Sequence):
            raise ValueError(f"{option} must contain one or more secrets")
        raise ValueError(
            f"{option} must be a str, bytes or a non-empty list of them, "
            f"not a {type(value).__name__}"
        )
    keys = []
    for item in values:
        if isinstance(item, str):
            item = item.encode("utf-8")
        if not isinstance(item, bytes):
            raise ValueError(
                f"every element of {option} must be a non-empty str or bytes, "
                f"not a {type(item).__name__}"
            )
        if not item:
            raise ValueError(f"every element of {option} must be a non-empty str or bytes")
        keys.append(item)
    return tuple(keys)


def app_secrets(app: Flask) -> tuple[bytes, ...]:
    """``[app.secret_key, *SECRET_KEY_FALLBACKS]`` (as Flask's own session), or a clear error."""
    key = app.secret_key
    if key is None or key == "" or key == b"":
        raise RuntimeError(
            "flask-sessionstore needs a secret to sign session cookies: set "
            "app.config['SECRET_KEY'] (or app.secret_key, SESSION_SECRET, or pass "
            "secret=...) before calling init_app"
        )
    if not isinstance(key, (str, bytes)):
        raise TypeError(
            f"SECRET_KEY must be a str or bytes, not a {type(key).__name__} "
            "(use a long random string, e.g. secrets.token_hex())"
        )
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    return resolve_secrets([key, *fallbacks], "SECRET_KEY / SECRET_KEY_FALLBACKS")


def check_flag(value: Any, option: str) -> bool:
    """A boolean option must be a bool (a string such as ``"false"`` is a mistake)."""
    if not isinstance(value, bool):
        raise TypeError(f"{option} must be True or False, not {value!r}")
    return value


def check_touch_after(store: Store, cookie: CookieSource) -> None:
    """Refuse a store ``touch_after`` that is not shorter than the cookie's ``max_age``.

    Such a store would let active users' sessions expire in the database while
    their cookie is still valid (connect-mongo accepts it silently).
    """
    touch_after = getattr(store, "touch_after", 0) or 0
    max_age = cookie.fixed_max_age()
    if touch_after and max_age is not None and touch_after >= max_age:
        raise ValueError(
            f"the store's touch_after ({touch_after:g} s) must be shorter than the "
            f"cookie max_age ({max_age:g} s), or active sessions expire in the store "
            "while their cookie is still valid"
        )


def _duration(value: Any, option: str) -> float | None:
    seconds = to_seconds(value, option)
    if seconds is not None and seconds <= 0:
        raise ValueError(
            f"{option} must be a positive duration (seconds or timedelta), not {value!r}"
        )
    return seconds


def build_options(app: Flask, keywords: Mapping[str, Any]) -> SessionOptions:
    """Combine keywords and ``app.config`` into validated :class:`SessionOptions`."""
    config = app.config

    def pick(name: str, key: str, default: Any) -> tuple[Any, str]:
        """The value and where it came from (the keyword, else the config key)."""
        value = keywords.get(name)
        if value is not None:
            return value, name
        value = config.get(key)
        return (default, name) if value is None else (value, key)

    secret, source = pick("secret", "SESSION_SECRET", None)
    secrets = app_secrets(app) if secret is None else resolve_secrets(secret, source)

    store, source = pick("store", "SESSION_STORE", None)
    if store is None:
        from .stores.memory import MemoryStore

        store = MemoryStore()
    if not isinstance(store, Store):
        hint = (
            " (a store instance, for example MongoStore(mongo_url=...) or "
            "RedisStore(url=...), not its name)"
            if isinstance(store, str)
            else ""
        )
        raise TypeError(
            f"{source} must be a flask_sessionstore.Store instance{hint}, not {store!r}"
        )

    name, source = pick("name", "SESSION_COOKIE_NAME", "session")
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise ValueError(f"{source} must be a cookie name (an RFC 6265 token), not {name!r}")

    cookie = CookieSource(keywords.get("cookie") or config.get("SESSION_COOKIE"), app)
    check_touch_after(store, cookie)

    genid, source = pick("genid", "SESSION_GENID", default_genid)
    if not callable(genid):
        raise TypeError(f"{source} must be a callable (request) -> str, not {genid!r}")

    proxy, source = pick("proxy", "SESSION_PROXY", None)
    if proxy is not None:
        check_flag(proxy, source)

    unset, source = pick("unset", "SESSION_UNSET", "destroy")
    if unset not in ("keep", "destroy"):
        raise ValueError(f"{source} must be 'keep' or 'destroy', not {unset!r}")

    user_key: Any = keywords.get("user_key")
    source = "user_key"
    if user_key is None:
        source = "SESSION_USER_KEY"
        user_key = config.get("SESSION_USER_KEY", "_user_id")
    if user_key is False:
        user_key = None
    if user_key is not None and (not isinstance(user_key, str) or not user_key):
        raise TypeError(
            f"{source} must be a session key (a non-empty str), or None/False for no owners, "
            f"not {user_key!r}"
        )

    idle, idle_source = pick("idle_timeout", "SESSION_IDLE_TIMEOUT", None)
    absolute, absolute_source = pick("absolute_timeout", "SESSION_ABSOLUTE_TIMEOUT", None)
    limit, source = pick("max_sessions_per_user", "SESSION_MAX_PER_USER", None)
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"{source} must be a positive int or None, not {limit!r}")

    def flag(name: str, key: str, default: bool) -> bool:
        value, source = pick(name, key, default)
        return check_flag(value, source)

    return SessionOptions(
        secrets=secrets,
        store=store,
        name=name,
        cookie=cookie,
        genid=genid,
        proxy=proxy,
        resave=flag("resave", "SESSION_RESAVE", False),
        rolling=flag("rolling", "SESSION_ROLLING", False),
        save_uninitialized=flag("save_uninitialized", "SESSION_SAVE_UNINITIALIZED", False),
        unset=cast(Literal["keep", "destroy"], unset),
        user_key=user_key,
        track_client=flag("track_client", "SESSION_TRACK_CLIENT", True),
        timeouts=Timeouts(_duration(idle, idle_source), _duration(absolute, absolute_source)),
        max_sessions_per_user=limit,
    )


def lifetime_seconds(app: Flask) -> float | None:
    """``PERMANENT_SESSION_LIFETIME`` in seconds (the lifetime of permanent sessions)."""
    lifetime: timedelta = app.permanent_session_lifetime
    return to_seconds(lifetime, "PERMANENT_SESSION_LIFETIME")
