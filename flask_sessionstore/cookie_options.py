"""Cookie options: validating them, and where each request's options come from.

The ``cookie`` option (a dict or a callable) and Flask's ``SESSION_COOKIE_*``
config keys become one validated dict.  Options that come from ``app.config``
are re-read when the config changes (as Flask's own session reads them on
every request), so a redeploy or a test that tightens ``SESSION_COOKIE_SAMESITE``
reaches existing sessions; a bad value names the config key it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask, Request

from .configkeys import SessionConfigWarning, warn_user
from .cookie import to_seconds

COOKIE_OPTION_NAMES = frozenset(
    {
        "max_age",
        "expires",
        "path",
        "domain",
        "http_only",
        "secure",
        "same_site",
        "partitioned",
        "priority",
    }
)


_DOMAIN = re.compile(
    r"^([.]?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)([.][a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
    re.IGNORECASE,
)
_PATH = re.compile(r"^[\x20-\x3A\x3D-\x7E]*$")
_SAME_SITE_VALUES = ("lax", "strict", "none", "auto", True, False, None)
_PRIORITIES = ("low", "medium", "high")

#: express's camelCase cookie option names, and ours.
_EXPRESS_NAMES = {
    "maxAge": "max_age (in seconds, where express's maxAge is in milliseconds)",
    "httpOnly": "http_only",
    "sameSite": "same_site",
}
#: A ``max_age`` this big and a multiple of 1000 was probably meant as milliseconds.
_MILLISECONDS_HINT = 1_000_000


def validate_cookie_options(
    options: Mapping[str, Any], source: str, labels: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Check cookie options and return them normalized.

    ``source`` names where they came from (``cookie`` or a callable) and
    ``labels`` the config key of each option that came from ``app.config``,
    so the error says what to fix.  Unknown keys and bad values raise
    ``ValueError`` (``TypeError`` for a wrong type), naming the key and the
    accepted values.
    """
    if not isinstance(options, Mapping):
        raise TypeError(f"{source} must be a dict or a callable, not {options!r}")

    def label(key: str) -> str:
        return (labels or {}).get(key) or f"{source}[{key!r}]"

    unknown = sorted(set(options) - COOKIE_OPTION_NAMES)
    if unknown:
        hints = "".join(
            f"; use {_EXPRESS_NAMES[key]} instead of {key!r}"
            for key in unknown
            if key in _EXPRESS_NAMES
        )
        raise ValueError(
            f"{source} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"accepted keys are {', '.join(sorted(COOKIE_OPTION_NAMES))}{hints}"
        )
    result = dict(options)
    if "max_age" in result:
        seconds = to_seconds(result["max_age"], label("max_age"))
        if seconds is not None and seconds >= _MILLISECONDS_HINT and seconds % 1000 == 0:
            warn_user(
                f"{label('max_age')} is {seconds:.0f} seconds ({seconds / 86400:.1f} days); "
                f"max_age is in seconds, unlike express's maxAge in milliseconds: did you "
                f"mean {seconds / 1000:g}?",
                SessionConfigWarning,
            )
    expires = result.get("expires")
    if expires is not None and (not isinstance(expires, datetime) or expires.tzinfo is None):
        raise ValueError(f"{label('expires')} must be an aware datetime or None, not {expires!r}")
    path = result.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/") or not _PATH.match(path):
        raise ValueError(
            f"{label('path')} must be a string starting with '/' made of printable "
            f"characters other than ';', not {path!r}"
        )
    domain = result.get("domain")
    if domain is not None and (not isinstance(domain, str) or not _DOMAIN.match(domain)):
        raise ValueError(f"{label('domain')} is not a valid cookie domain: {domain!r}")
    for flag in ("http_only", "partitioned"):
        if flag in result and not isinstance(result[flag], (bool, type(None))):
            raise TypeError(f"{label(flag)} must be True or False, not {result[flag]!r}")
    secure = result.get("secure")
    if secure is not None and not isinstance(secure, bool) and secure != "auto":
        raise ValueError(f"{label('secure')} must be True, False, None or 'auto', not {secure!r}")
    same_site = result.get("same_site")
    if isinstance(same_site, str):
        same_site = result["same_site"] = same_site.lower()
    if not any(
        same_site is v or (isinstance(v, str) and same_site == v) for v in _SAME_SITE_VALUES
    ):
        raise ValueError(
            f"{label('same_site')} must be 'lax', 'strict', 'none', 'auto', True, "
            f"False or None, not {options['same_site']!r}"
        )
    priority = result.get("priority")
    if priority is not None:
        if not isinstance(priority, str) or priority.lower() not in _PRIORITIES:
            raise ValueError(
                f"{label('priority')} must be 'low', 'medium', 'high' or None, not {priority!r}"
            )
        result["priority"] = priority.lower()
    return result


#: The config key each cookie option falls back to (Flask's names).
CONFIG_KEYS = {
    "path": "SESSION_COOKIE_PATH",
    "domain": "SESSION_COOKIE_DOMAIN",
    "http_only": "SESSION_COOKIE_HTTPONLY",
    "secure": "SESSION_COOKIE_SECURE",
    "same_site": "SESSION_COOKIE_SAMESITE",
    "partitioned": "SESSION_COOKIE_PARTITIONED",
    "max_age": "SESSION_COOKIE_MAX_AGE",
}
_WATCHED = (*CONFIG_KEYS.values(), "APPLICATION_ROOT")


def config_cookie(config: Mapping[str, Any]) -> dict[str, Any]:
    """Cookie options from Flask's ``SESSION_COOKIE_*`` keys and ``SESSION_COOKIE_MAX_AGE``."""
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


class CookieSource:
    """Where each request's cookie options come from.

    ``option`` is the ``cookie`` keyword (or ``SESSION_COOKIE``): a dict
    merged over the config keys, a callable ``(request) -> dict`` validated on
    every call, or None (the config keys alone).  Config-derived options are
    validated at ``init_app`` and again whenever the config keys change.
    """

    def __init__(self, option: Any, app: Flask) -> None:
        if option is not None and not callable(option) and not isinstance(option, Mapping):
            raise TypeError(
                f"cookie must be a dict or a callable (request) -> dict, not {option!r}"
            )
        self._option = option
        self._cached: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        if not callable(option):
            self.from_config(app.config)

    def for_request(self, app: Flask, request: Request) -> Mapping[str, Any]:
        """The validated cookie options for ``request``."""
        if callable(self._option):
            return validate_cookie_options(
                self._option(request), "the result of the cookie callable"
            )
        return self.from_config(app.config)

    def from_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The options for the current config (cached until a watched key changes)."""
        fingerprint = tuple(map(config.get, _WATCHED))
        cached = self._cached
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        base = config_cookie(config)
        given: Mapping[str, Any] = self._option or {}
        if "max_age" in given and "expires" not in given:
            base.pop("expires", None)
        if "expires" in given and "max_age" not in given:
            base.pop("max_age", None)
        labels = {key: CONFIG_KEYS[key] for key in base if key not in given}
        if "path" in labels and not config.get("SESSION_COOKIE_PATH"):
            labels["path"] = "APPLICATION_ROOT"
        options = validate_cookie_options({**base, **given}, "cookie", labels)
        self._cached = (fingerprint, options)
        return options

    def fixed_max_age(self) -> float | None:
        """The ``max_age`` every session gets, when it does not depend on the request."""
        if callable(self._option) or self._cached is None:
            return None
        return to_seconds(self._cached[1].get("max_age"), "cookie['max_age']")
