"""How MemoryStore keeps one session: JSON text, a version, its record and expiry.

The cookie and the data are kept as JSON text, so every read is a fresh copy
and nothing a view does to a returned dict reaches the store.  They are two
texts because a touch or a refresh brings a new cookie and the same data:
the data's text (the object's members, without braces) is kept as it is,
and a read joins the two.

Every entry carries a version number that is new with each write, unique in
the process: a session destroyed and stored again with the same value is
still a new version, so a request that loaded the old one cannot mistake it
for what it read.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from ..records import Record
from .base import StoredSession

#: ``JSON.stringify``'s output: no spaces, non-ASCII kept, no NaN.
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
#: A new version number on each call.
next_version = itertools.count(1).__next__


@dataclass(frozen=True)
class Entry:
    """One stored session."""

    expiry: float  # POSIX timestamp
    cookie: str  # the cookie's JSON
    data: str  # the data's JSON object members, without braces
    version: int
    record: Record


def data_text(session: StoredSession) -> str:
    """The JSON members of ``session``'s data (everything but the cookie), without braces."""
    return dumps({k: v for k, v in session.items() if k != "cookie"})[1:-1]


def decode(entry: Entry) -> StoredSession:
    """A fresh copy of the stored session ``{"cookie": ..., **data}``."""
    text = '{"cookie":' + entry.cookie + ("," + entry.data if entry.data else "") + "}"
    result: StoredSession = json.loads(text)
    return result


def when(timestamp: float) -> datetime:
    """An entry's expiry as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, timezone.utc)
