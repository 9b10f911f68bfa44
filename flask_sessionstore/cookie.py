"""``Cookie``: the session cookie's attributes, expiry arithmetic and the
express JSON form that is stored with every session.

This mirrors express-session's ``session/cookie.js``: ``expires`` is absolute,
``max_age`` is derived from it (remaining time), and ``original_max_age`` is
the lifetime that :meth:`Cookie.touch` renews.  Durations are seconds here and
milliseconds in the stored form, as express stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Union

from werkzeug.http import http_date

#: What ``max_age`` accepts: seconds, a ``timedelta``, or None.
Duration = Union[int, float, timedelta, None]
#: ``same_site`` values once validated.
SameSite = Union[Literal["lax", "strict", "none"], bool, None]

#: The attributes that come from the current options, not from the stored session.
ATTRIBUTE_NAMES = ("path", "domain", "http_only", "secure", "same_site", "partitioned", "priority")

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


class Cookie:
    """The session cookie of one session (express-session's ``Cookie``).

    Its attributes are stored with the session (express's JSON form), but a
    loaded session takes the app's current options (:meth:`adopt_attributes`);
    only its expiry comes from the store.
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

    def attributes(self) -> tuple[Any, ...]:
        """The values of :data:`ATTRIBUTE_NAMES`: everything but the expiry."""
        return (
            self.path,
            self.domain,
            self.http_only,
            self.secure,
            self.same_site,
            self.partitioned,
            self.priority,
        )

    def adopt_attributes(self, current: tuple[Any, ...]) -> bool:
        """Take ``current`` attribute values (:meth:`attributes`); True if any differed.

        A loaded session's cookie gets the app's current options this way,
        so a redeploy that tightens ``same_site`` or ``secure`` reaches
        browsers that already hold a session.
        """
        if self.attributes() == current:
            return False
        for name, value in zip(ATTRIBUTE_NAMES, current, strict=True):
            setattr(self, name, value)
        return True

    def cap(self, latest: datetime) -> None:
        """Make :attr:`expires` no later than ``latest`` (an absolute timeout).

        :attr:`original_max_age` is kept, so a later touch renews as before
        and is capped again.  A browser-session cookie stays one.
        """
        if self._expires is not None and self._expires > latest:
            self._expires = latest

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
            # browsers ignore a leading dot (RFC 6265 5.2.3); werkzeug's test
            # client does not send such a cookie back, so leave it out as Flask does
            parts.append(f"Domain={self.domain.lstrip('.')}")
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
