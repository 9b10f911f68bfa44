"""``Cookie``: the session cookie's attributes, expiry arithmetic and the
express JSON form that is stored with every session.

This mirrors express-session's ``session/cookie.js``: ``expires`` is absolute,
``max_age`` is derived from it (remaining time), and ``original_max_age`` is
the lifetime that :meth:`Cookie.touch` renews.  Durations are seconds here and
milliseconds in the stored form, as express stores them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Union

from werkzeug.http import http_date

#: What ``max_age`` accepts: seconds, a ``timedelta``, or None.
Duration = Union[int, float, timedelta, None]
#: ``same_site`` values once validated.
SameSite = Union[Literal["lax", "strict", "none"], bool, None]

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
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the one clock of the package)."""
    return datetime.now(timezone.utc)


def to_seconds(value: Duration, option: str) -> float | None:
    """Convert a duration option to seconds, rejecting bad types and negatives."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(
            f"{option} must be seconds (int or float), a timedelta or None, not {value!r}"
        )
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{option} must not be negative, got {value!r}")
    return seconds


def format_iso(moment: datetime) -> str:
    """``Date.prototype.toISOString``: UTC with exactly three millisecond digits."""
    if moment.utcoffset():
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 timestamp as JavaScript's ``Date`` would, into aware UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def validate_cookie_options(options: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check cookie options and return them normalized.

    ``source`` names where they came from (``cookie`` or a config key) so the
    error says what to fix.  Unknown keys and bad values raise ``ValueError``
    (``TypeError`` for a wrong type), naming the key and the accepted values.
    """
    if not isinstance(options, Mapping):
        raise TypeError(f"{source} must be a dict or a callable, not {options!r}")
    unknown = sorted(set(options) - COOKIE_OPTION_NAMES)
    if unknown:
        raise ValueError(
            f"{source} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"accepted keys are {', '.join(sorted(COOKIE_OPTION_NAMES))}"
        )
    result = dict(options)
    if "max_age" in result:
        to_seconds(result["max_age"], f"{source}['max_age']")
    expires = result.get("expires")
    if expires is not None and (not isinstance(expires, datetime) or expires.tzinfo is None):
        raise ValueError(f"{source}['expires'] must be an aware datetime or None, not {expires!r}")
    path = result.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/") or not _PATH.match(path):
        raise ValueError(
            f"{source}['path'] must be a string starting with '/' made of printable "
            f"characters other than ';', not {path!r}"
        )
    domain = result.get("domain")
    if domain is not None and (not isinstance(domain, str) or not _DOMAIN.match(domain)):
        raise ValueError(f"{source}['domain'] is not a valid cookie domain: {domain!r}")
    for flag in ("http_only", "partitioned"):
        if flag in result and not isinstance(result[flag], (bool, type(None))):
            raise TypeError(f"{source}[{flag!r}] must be True or False, not {result[flag]!r}")
    secure = result.get("secure")
    if secure is not None and not isinstance(secure, bool) and secure != "auto":
        raise ValueError(f"{source}['secure'] must be True, False, None or 'auto', not {secure!r}")
    same_site = result.get("same_site")
    if isinstance(same_site, str):
        same_site = result["same_site"] = same_site.lower()
    if not any(
        same_site is v or (isinstance(v, str) and same_site == v) for v in _SAME_SITE_VALUES
    ):
        raise ValueError(
            f"{source}['same_site'] must be 'lax', 'strict', 'none', 'auto', True, "
            f"False or None, not {options['same_site']!r}"
        )
    priority = result.get("priority")
    if priority is not None:
        if not isinstance(priority, str) or priority.lower() not in _PRIORITIES:
            raise ValueError(
                f"{source}['priority'] must be 'low', 'medium', 'high' or None, not {priority!r}"
            )
        result["priority"] = priority.lower()
    return result


class Cookie:
    """The session cookie of one session (express-session's ``Cookie``).

    Its attributes are persisted with the session, so a loaded session keeps
    the attributes it was created with even after the app's cookie options
    change (as in express, which avoids browsers rejecting a changed cookie).
    """

    __slots__ = (
        "_expires",
        "domain",
        "http_only",
        "original_max_age",
        "partitioned",
        "path",
        "priority",
        "same_site",
        "secure",
    )

    def __init__(
        self,
        *,
        max_age: Duration = None,
        expires: datetime | None = None,
        path: str = "/",
        domain: str | None = None,
        http_only: bool = True,
        secure: bool | None = None,
        same_site: SameSite = None,
        partitioned: bool | None = None,
        priority: str | None = None,
    ) -> None:
        #: Path attribute; also the prefix a request path must have to get a session.
        self.path = path
        #: Domain attribute, or None for a host-only cookie.
        self.domain = domain
        #: Whether the HttpOnly attribute is sent.
        self.http_only = http_only
        #: Whether the Secure attribute is sent (None: not set, not stored).
        self.secure = secure
        #: SameSite: ``"lax"``, ``"strict"``, ``"none"``, True (strict) or falsy.
        self.same_site = same_site
        #: Whether the Partitioned attribute (CHIPS) is sent.
        self.partitioned = partitioned
        #: Priority attribute: ``"low"``, ``"medium"``, ``"high"`` or None.
        self.priority = priority
        self._expires: datetime | None = None
        #: The lifetime in seconds that :meth:`touch` renews, or None.
        self.original_max_age: float | None = None
        if expires is not None:
            self.expires = expires
        if max_age is not None:
            self.max_age = max_age

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Cookie:
        """Build the cookie of a new session from validated, resolved options."""
        return cls(
            max_age=options.get("max_age"),
            expires=options.get("expires"),
            path=options.get("path", "/"),
            domain=options.get("domain"),
            http_only=bool(options.get("http_only", True)),
            secure=options.get("secure"),
            same_site=options.get("same_site"),
            partitioned=options.get("partitioned"),
            priority=options.get("priority"),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cookie:
        """Rebuild a cookie from its stored express JSON form.

        ``expires`` may be an ISO string (JSON stores) or a datetime (BSON
        stores); ``originalMaxAge`` is restored exactly as stored.
        """
        cookie = cls(
            path=data.get("path") or "/",
            domain=data.get("domain"),
            http_only=bool(data.get("httpOnly", True)),  # express: absent keeps the default
            secure=data.get("secure"),
            same_site=data.get("sameSite"),
            partitioned=data.get("partitioned"),
            priority=data.get("priority"),
        )
        expires = data.get("expires")
        if isinstance(expires, str):
            cookie._expires = parse_iso(expires)
        elif isinstance(expires, datetime):
            cookie._expires = (
                expires.replace(tzinfo=timezone.utc) if expires.tzinfo is None else expires
            )
        original = data.get("originalMaxAge")
        if isinstance(original, (int, float)) and not isinstance(original, bool):
            cookie.original_max_age = original / 1000
        return cookie

    @property
    def expires(self) -> datetime | None:
        """Absolute expiry (aware UTC datetime), or None for a browser-session cookie.

        Setting it also sets :attr:`original_max_age` to the time remaining,
        so later touches extend by that much (express semantics).
        """
        return self._expires

    @expires.setter
    def expires(self, value: datetime | None) -> None:
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValueError(f"expires must be an aware datetime or None, not {value!r}")
        self._expires = value
        self.original_max_age = self.max_age

    @property
    def max_age(self) -> float | None:
        """Seconds until expiry (may be negative once expired), or None.

        Set it with seconds, a ``timedelta`` or None; this sets
        :attr:`expires` to now + the duration and :attr:`original_max_age`.
        """
        if self._expires is None:
            return None
        return (self._expires - utcnow()).total_seconds()

    @max_age.setter
    def max_age(self, value: Duration) -> None:
        seconds = to_seconds(value, "max_age")
        if seconds is None:
            self._expires = None
            self.original_max_age = None
        else:
            self._expires = utcnow() + timedelta(seconds=seconds)
            self.original_max_age = seconds

    def touch(self) -> None:
        """Reset :attr:`expires` to now + :attr:`original_max_age` (in memory only)."""
        if self.original_max_age is None:
            self._expires = None
        else:
            self._expires = utcnow() + timedelta(seconds=self.original_max_age)

    def to_dict(self) -> dict[str, Any]:
        """The express JSON form: what express's ``Cookie.toJSON`` produces.

        ``originalMaxAge`` is in milliseconds, ``expires`` an ISO string with
        milliseconds; ``secure``, ``domain``, ``sameSite``, ``partitioned``
        and ``priority`` appear only when set.
        """
        data: dict[str, Any] = {
            "originalMaxAge": None
            if self.original_max_age is None
            else round(self.original_max_age * 1000)
        }
        if self.partitioned is not None:
            data["partitioned"] = self.partitioned
        if self.priority is not None:
            data["priority"] = self.priority
        data["expires"] = None if self._expires is None else format_iso(self._expires)
        if self.secure is not None:
            data["secure"] = self.secure
        data["httpOnly"] = self.http_only
        if self.domain is not None:
            data["domain"] = self.domain
        data["path"] = self.path
        if self.same_site is not None:
            data["sameSite"] = self.same_site
        return data

    def serialize(self, name: str, value: str) -> str:
        """The ``Set-Cookie`` header value, attribute for attribute as express writes it."""
        return self._header(name, value, self._expires)

    def serialize_expired(self, name: str) -> str:
        """A ``Set-Cookie`` value that removes this cookie (same Path and Domain)."""
        return self._header(name, "", _EPOCH)

    def _header(self, name: str, value: str, expires: datetime | None) -> str:
        parts = [f"{name}={value}"]
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.path:
            parts.append(f"Path={self.path}")
        if expires is not None:
            parts.append(f"Expires={http_date(expires)}")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        if self.partitioned:
            parts.append("Partitioned")
        if self.priority:
            parts.append(f"Priority={self.priority.capitalize()}")
        same_site = self.same_site
        if same_site:
            label = "Strict" if same_site is True else str(same_site).capitalize()
            parts.append(f"SameSite={label}")
        return "; ".join(parts)

    def __repr__(self) -> str:
        return f"Cookie({self.to_dict()!r})"
