"""The extension's options, checked once at ``init_app`` and frozen.

Each keyword of :class:`~flask_sessionstore.SessionStore` falls back to an
``app.config`` key; this module turns both into one validated
:class:`SessionOptions` so that a bad value fails at start-up with a message
naming the option, the value and what is accepted.
"""

from __future__ import annotations

import re
import secrets as _secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Union, cast

from flask import Flask, Request

from .cookie import to_seconds, validate_cookie_options
from .stores.base import Store

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

    secrets: tuple[bytes, ...]
    store: Store
    name: str
    cookie: CookieOption
    genid: Callable[[Request], str]
    proxy: bool | None
    resave: bool
    rolling: bool
    save_uninitialized: bool
    unset: Literal["keep", "destroy"]


def resolve_secrets(value: Any, option: str) -> tuple[bytes, ...]:
    """Turn the ``secret`` option into the tuple of keys (index 0 signs)."""
    values = [value] if isinstance(value, (str, bytes)) else value
    if not isinstance(values, Sequence) or not values:
        raise ValueError(
            f"{option} must be a str, bytes or a non-empty list of them, not {value!r}"
            if not isinstance(value, Sequence)
            else f"{option} must contain one or more secrets"
        )
    keys = []
    for item in values:
        if isinstance(item, str):
            item = item.encode("utf-8")
        if not isinstance(item, bytes) or not item:
            raise ValueError(f"every element of {option} must be a non-empty str or bytes")
        keys.append(item)
    return tuple(keys)


def config_secrets(app: Flask) -> tuple[bytes, ...]:
    """``[SECRET_KEY, *SECRET_KEY_FALLBACKS]``, or a clear error when there is none."""
    key = app.config.get("SECRET_KEY")
    if not key:
        raise RuntimeError(
            "flask-sessionstore needs a secret to sign session cookies: set "
            "app.config['SECRET_KEY'] (or SESSION_SECRET, or pass secret=...) "
            "before calling init_app"
        )
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    return resolve_secrets([key, *fallbacks], "SECRET_KEY / SECRET_KEY_FALLBACKS")


def config_cookie(app: Flask) -> dict[str, Any]:
    """Cookie options from Flask's ``SESSION_COOKIE_*`` keys and ``SESSION_COOKIE_MAX_AGE``."""
    config = app.config
    same_site = config.get("SESSION_COOKIE_SAMESITE")
    options: dict[str, Any] = {
        "path": config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/",
        "domain": config.get("SESSION_COOKIE_DOMAIN") or None,
        "http_only": bool(config.get("SESSION_COOKIE_HTTPONLY", True)),
        "same_site": same_site.lower() if isinstance(same_site, str) else same_site,
        "max_age": config.get("SESSION_COOKIE_MAX_AGE"),
    }
    secure = config.get("SESSION_COOKIE_SECURE", False)
    if secure:
        options["secure"] = secure
    if config.get("SESSION_COOKIE_PARTITIONED"):
        options["partitioned"] = True
    return options


def check_flag(value: Any, option: str) -> bool:
    """A boolean option must be a bool (a string such as ``"false"`` is a mistake)."""
    if not isinstance(value, bool):
        raise TypeError(f"{option} must be True or False, not {value!r}")
    return value


def check_cookie(value: Any, base: Mapping[str, Any]) -> CookieOption:
    """Validate a dict ``cookie`` option (merged over ``base``) or accept a callable."""
    if callable(value):
        return cast(CookieOption, value)  # validated on every call, see resolve_cookie
    if not isinstance(value, Mapping):
        raise TypeError(f"cookie must be a dict or a callable (request) -> dict, not {value!r}")
    merged = {**base, **value}
    if "max_age" in value and "expires" not in value:
        merged.pop("expires", None)
    if "expires" in value and "max_age" not in value:
        merged.pop("max_age", None)
    return validate_cookie_options(merged, "cookie")


def check_touch_after(store: Store, cookie: CookieOption) -> None:
    """Refuse a store ``touch_after`` that is not shorter than the cookie's ``max_age``.

    Such a store would let active users' sessions expire in the database while
    their cookie is still valid (connect-mongo accepts it silently).  Checked
    at start-up when both are known; the store checks each session as well.
    """
    touch_after = getattr(store, "touch_after", 0) or 0
    if not touch_after or callable(cookie):
        return
    max_age = to_seconds(cookie.get("max_age"), "cookie['max_age']")
    if max_age is not None and touch_after >= max_age:
        raise ValueError(
            f"the store's touch_after ({touch_after:g} s) must be shorter than the "
            f"cookie max_age ({max_age:g} s), or active sessions expire in the store "
            "while their cookie is still valid"
        )


def resolve_cookie(option: CookieOption, request: Request) -> Mapping[str, Any]:
    """The cookie options for ``request``, calling and validating a callable option."""
    if callable(option):
        return validate_cookie_options(option(request), "the result of the cookie callable")
    return option


def build_options(app: Flask, keywords: Mapping[str, Any]) -> SessionOptions:
    """Combine keywords and ``app.config`` into validated :class:`SessionOptions`."""
    config = app.config

    def pick(name: str, key: str, default: Any) -> Any:
        value = keywords.get(name)
        if value is None:
            value = config.get(key)
        return default if value is None else value

    secret = pick("secret", "SESSION_SECRET", None)
    secrets = config_secrets(app) if secret is None else resolve_secrets(secret, "secret")

    store = keywords.get("store") or config.get("SESSION_STORE")
    if store is None:
        from .stores.memory import MemoryStore

        store = MemoryStore()
    if not isinstance(store, Store):
        raise TypeError(f"store must be a flask_sessionstore.Store instance, not {store!r}")

    name = pick("name", "SESSION_COOKIE_NAME", "session")
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise ValueError(f"name must be a cookie name (an RFC 6265 token), not {name!r}")

    cookie = check_cookie(pick("cookie", "SESSION_COOKIE", {}), config_cookie(app))
    check_touch_after(store, cookie)

    genid = pick("genid", "SESSION_GENID", default_genid)
    if not callable(genid):
        raise TypeError(f"genid must be a callable (request) -> str, not {genid!r}")

    proxy = pick("proxy", "SESSION_PROXY", None)
    if proxy is not None:
        check_flag(proxy, "proxy")

    unset = pick("unset", "SESSION_UNSET", "keep")
    if unset not in ("keep", "destroy"):
        raise ValueError(f"unset must be 'keep' or 'destroy', not {unset!r}")

    return SessionOptions(
        secrets=secrets,
        store=store,
        name=name,
        cookie=cookie,
        genid=genid,
        proxy=proxy,
        resave=check_flag(pick("resave", "SESSION_RESAVE", False), "resave"),
        rolling=check_flag(pick("rolling", "SESSION_ROLLING", False), "rolling"),
        save_uninitialized=check_flag(
            pick("save_uninitialized", "SESSION_SAVE_UNINITIALIZED", False),
            "save_uninitialized",
        ),
        unset=unset,
    )


def lifetime_seconds(app: Flask) -> float | None:
    """``PERMANENT_SESSION_LIFETIME`` in seconds (the lifetime of permanent sessions)."""
    lifetime: timedelta = app.permanent_session_lifetime
    return to_seconds(lifetime, "PERMANENT_SESSION_LIFETIME")
