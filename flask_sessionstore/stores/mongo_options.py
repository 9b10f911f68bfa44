"""MongoStore's options: checked at construction, secrets kept out of sight.

Nothing here touches the network or needs pymongo.  The connection string
(its password) and the crypto secret are held by :class:`Secrets`, whose
``repr`` masks them, so they show in no ``repr()``, log line, error message
or traceback local variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from ..cookie import Duration, to_seconds
from .base import StoredSession
from .checks import positive_duration

if TYPE_CHECKING:
    from ..crypto import SessionCipher

#: ``auto_remove`` values (connect-mongo's ``autoRemove``).
AutoRemove = Literal["native", "interval", "disabled"]
AUTO_REMOVE_MODES = ("native", "interval", "disabled")


class HiddenURL:
    """A connection string whose ``repr`` and ``str`` never show the password."""

    def __init__(self, url: str) -> None:
        self.value = url

    def __repr__(self) -> str:
        return f"<HiddenURL {self.masked}>"

    __str__ = __repr__

    @property
    def masked(self) -> str:
        """The URL with the password replaced by ``***`` and the options left out."""
        scheme, sep, rest = self.value.partition("://")
        hosts, slash, tail = rest.partition("/")
        user, at, where = hosts.rpartition("@")
        if at:
            hosts = user.split(":", 1)[0] + (":***@" if ":" in user else "@") + where
        return (
            scheme + sep + hosts + slash + tail.split("?", 1)[0] + ("?..." if "?" in tail else "")
        )

    @property
    def database(self) -> str | None:
        """The database named in the URL's path, if any (read without DNS or pymongo)."""
        path = self.value.partition("://")[2].partition("/")[2].split("?", 1)[0]
        return unquote(path) or None

    def options(self) -> dict[str, str]:
        """The URL's query options by lower-cased name (URI options are case-insensitive)."""
        query = self.value.partition("?")[2]
        result = {}
        for item in query.replace(";", "&").split("&"):
            name, _, value = item.partition("=")
            if name:
                result[unquote(name).lower()] = unquote(value)
        return result


class Secrets:
    """What must never be shown: ``mongo_url``, ``mongo_options`` and ``crypto``."""

    def __init__(
        self,
        mongo_url: Any,
        mongo_options: Mapping[str, Any] | None,
        crypto: Mapping[str, Any] | None,
    ) -> None:
        self.url = HiddenURL(mongo_url) if isinstance(mongo_url, str) else None
        self.url_given = mongo_url is not None
        self.url_type = type(mongo_url).__name__
        self.mongo_options = mongo_options
        self.crypto = crypto

    def __repr__(self) -> str:
        return f"<Secrets url={self.url!r}>"


def require_pymongo() -> None:
    """A missing driver is an ``ImportError`` at construction, naming the extra."""
    try:
        import pymongo  # noqa: F401
    except ImportError:
        raise ImportError(
            "MongoStore needs pymongo: install the 'mongo' extra "
            "(pip install 'flask-express-session[mongo]')"
        ) from None


@dataclass(frozen=True)
class Durations:
    """The duration options, in seconds."""

    ttl: float
    auto_remove_interval: float
    touch_after: float | None
    timeout: float | None


def check_durations(
    ttl: Duration, auto_remove_interval: Duration, touch_after: Duration, timeout: Duration
) -> Durations:
    """Positive ``ttl``, interval and ``timeout``; a ``touch_after`` shorter than ``ttl``."""
    result = Durations(
        positive_duration(ttl, "MongoStore ttl"),
        positive_duration(auto_remove_interval, "MongoStore auto_remove_interval"),
        to_seconds(touch_after, "MongoStore touch_after"),
        None if timeout is None else positive_duration(timeout, "MongoStore timeout"),
    )
    if result.touch_after and result.touch_after >= result.ttl:
        raise ValueError(
            f"MongoStore touch_after ({result.touch_after:g} s) must be shorter than "
            f"ttl ({result.ttl:g} s), the lifetime of browser-session cookies"
        )
    return result


def check_sources(client: Any, secrets: Secrets, collection: Any, db_name: Any, name: str) -> None:
    """Exactly one of ``client``, ``mongo_url`` or ``collection``, and options that fit it."""
    sources = (
        ("client", client is not None),
        ("mongo_url", secrets.url_given),
        ("collection", collection is not None),
    )
    given = [source for source, present in sources if present]
    if len(given) != 1:
        raise ValueError(
            "MongoStore needs exactly one of client (a MongoClient), mongo_url "
            "(a mongodb:// connection string) or collection (a collection object); "
            + (f"got {' and '.join(given)}" if given else "got none")
        )
    if secrets.url_given and secrets.url is None:
        raise TypeError(f"MongoStore mongo_url must be a str, not a {secrets.url_type}")
    if collection is not None and (db_name is not None or name != "sessions"):
        raise ValueError(
            "MongoStore db_name and collection_name do not apply with collection=; "
            "the collection object already names both"
        )
    options = secrets.mongo_options
    if options is not None and secrets.url is None:
        raise ValueError("MongoStore mongo_options apply only with mongo_url=")
    if options is not None and not isinstance(options, Mapping):
        raise TypeError("MongoStore mongo_options must be a dict of MongoClient keyword arguments")


def check_callables(**funcs: Callable[..., Any] | None) -> None:
    """``serialize``, ``unserialize`` and ``transform_id`` are callables or None."""
    for name, func in funcs.items():
        if func is not None and not callable(func):
            raise TypeError(f"MongoStore {name} must be callable or None, not {func!r}")


def check_write_concern(write_concern: Any) -> None:
    """A dict such as ``{"w": "majority"}`` or a pymongo ``WriteConcern``."""
    if write_concern is not None and not (
        isinstance(write_concern, Mapping) or hasattr(write_concern, "document")
    ):
        raise TypeError(
            "MongoStore write_concern must be a dict such as {'w': 'majority'} "
            f"or a pymongo WriteConcern, not {write_concern!r}"
        )


def check_auto_remove(auto_remove: Any) -> AutoRemove:
    """One of connect-mongo's ``autoRemove`` modes."""
    if auto_remove not in AUTO_REMOVE_MODES:
        raise ValueError(
            f"MongoStore auto_remove must be one of {', '.join(map(repr, AUTO_REMOVE_MODES))}, "
            f"not {auto_remove!r}"
        )
    mode: AutoRemove = auto_remove
    return mode


def make_cipher(secrets: Secrets) -> SessionCipher | None:
    """The cipher of ``crypto={...}``; its errors never carry the secret in a traceback."""
    if secrets.crypto is None:
        return None
    from ..crypto import SessionCipher

    try:
        return SessionCipher.from_options(secrets.crypto)
    except (TypeError, ValueError) as exc:
        # A fresh error: the original's frames hold the secret in local variables.
        raise type(exc)(str(exc)) from None


def check_touch_after(name: str, touch_after: float | None, session: StoredSession) -> None:
    """Refuse a positive ``touch_after`` not shorter than this session's cookie lifetime."""
    if not touch_after:
        return
    cookie = session.get("cookie")
    lifetime = cookie.get("originalMaxAge") if isinstance(cookie, Mapping) else None
    if (
        isinstance(lifetime, (int, float))
        and not isinstance(lifetime, bool)
        and touch_after * 1000 >= lifetime
    ):
        raise ValueError(
            f"{name} touch_after ({touch_after:g} s) must be shorter than "
            f"the session cookie's lifetime (originalMaxAge {lifetime:g} ms = "
            f"{lifetime / 1000:g} s): otherwise active users' sessions expire in "
            "the database while their cookie is still valid. Lower touch_after "
            "or raise the cookie max_age."
        )
