"""How MemoryStore keeps one session: JSON text, a version, its record and expiry.

The session is kept as JSON text, so every read is a fresh copy and nothing a
view does to a returned dict reaches the store.  A touch or a refresh (a new
cookie, the same data) is rare (the automatic touch interval), so it simply
rewrites the text.

Every entry carries a version number that is new with each write, unique in
the process: a session destroyed and stored again with the same value is
still a new version, so a request that loaded the old one cannot mistake it
for what it read.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import NamedTuple

from ..records import Record
from .base import StoredSession

#: ``JSON.stringify``'s output: no spaces, non-ASCII kept, no NaN.
dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
#: A new version number on each call.
next_version = itertools.count(1).__next__


class Entry(NamedTuple):
    """One stored session (a named tuple: one is made on every write)."""

    expiry: float  # POSIX timestamp, for the heap and comparisons
    text: str  # the whole stored session as JSON
    version: int
    record: Record
    expires: datetime  # the same expiry, aware UTC (what a load reports)


def decode(entry: Entry) -> StoredSession:
    """A fresh copy of the stored session ``{"cookie": ..., **data}``."""
    result: StoredSession = json.loads(entry.text)
    return result
