"""The document MongoStore reads and writes: connect-mongo's schema plus the record.

One session is one document::

    {_id: sid, session: '{"cookie":{...},...}', expires: ISODate,   # connect-mongo's
     rev: "9f2c04e1b7a3d5c6",                                       # our compare-and-set token
     user, createdAt, lastSeenAt, ip, userAgent                     # the record (api.md 8)
     [, lastModified] [, updatedAt]}                                # touch_after > 0, timestamps

connect-mongo's writes ``$set`` only ``session`` and ``expires`` (and
``lastModified``), so they leave ``rev`` and the record in place, and it
ignores both.  The ``session`` value itself is :mod:`.mongo_codec`'s.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..records import Record, SessionRecord
from .base import Loaded, StoredSession, stored_expiry
from .errors import too_large, warn_unreadable
from .mongo_codec import SessionCodec, aware, bson_date, object_cookie

#: MongoDB's document limit (16 MiB) less room for ``_id``, ``expires``, ``rev``
#: and the record: the largest ``session`` value a store accepts, in bytes.
MAX_VALUE_SIZE = 16 * 1024 * 1024 - 4 * 1024

#: The fields a load reads: the session, its version, its record.
LOAD_FIELDS = {
    "session": 1,
    "expires": 1,
    "rev": 1,
    "user": 1,
    "createdAt": 1,
    "lastSeenAt": 1,
    "ip": 1,
    "userAgent": 1,
}
#: The fields a listing of records reads (no session value).
RECORD_FIELDS = {key: 1 for key in LOAD_FIELDS if key not in ("session", "rev")}


@dataclass(frozen=True)
class Version:
    """What a write compares against: the ``rev`` and ``expires`` a load saw.

    Each of our writes sets a fresh ``rev``; connect-mongo's writes never
    touch ``rev`` but always move ``expires``.  So a document whose pair
    still matches has not been written since, except by a Node write in the
    same millisecond or one whose absolute cookie expiry equals the stored
    one (both fields then look unchanged, and that write can be lost).
    """

    rev: str | None
    expires: datetime | None

    def query(self, tid: Any) -> dict[str, Any]:
        """The filter that matches the document only while it is this version (constant size)."""
        return {"_id": tid, "rev": self.rev, "expires": self.expires}


def is_live(doc: Mapping[str, Any], now: datetime) -> bool:
    """Whether a document has not expired (no ``expires`` counts as live, as in connect-mongo)."""
    expires = doc.get("expires")
    return not isinstance(expires, datetime) or aware(expires) > now


def live_filter(now: datetime) -> dict[str, Any]:
    """connect-mongo's query for documents that have not expired."""
    return {"$or": [{"expires": {"$exists": False}}, {"expires": {"$gt": bson_date(now)}}]}


def version_of(doc: Mapping[str, Any]) -> Version:
    """The version of a document as read."""
    rev, expires = doc.get("rev"), doc.get("expires")
    return Version(
        rev if isinstance(rev, str) else None,
        expires if isinstance(expires, datetime) else None,
    )


def expires_of(doc: Mapping[str, Any]) -> datetime | None:
    """A document's ``expires`` as an aware datetime, or None."""
    expires = doc.get("expires")
    return aware(expires) if isinstance(expires, datetime) else None


def record_of(doc: Mapping[str, Any]) -> Record:
    """The record kept in a document's top-level fields (empty for connect-mongo's)."""

    def when(key: str) -> datetime | None:
        value = doc.get(key)
        return aware(value) if isinstance(value, datetime) else None

    def text(key: str) -> str | None:
        value = doc.get(key)
        return value if isinstance(value, str) else None

    return Record(
        text("user"), when("createdAt"), when("lastSeenAt"), text("ip"), text("userAgent")
    )


def record_fields(record: Record, stored: Record | None = None) -> dict[str, Any]:
    """The ``$set`` of a record; unknown timestamps leave the stored ones alone.

    With ``stored`` (the record the document holds), fields that did not
    change are left out: a write usually sets only ``lastSeenAt``.
    """
    fields: dict[str, Any] = {}
    if stored is None or record.user != stored.user:
        fields["user"] = record.user
    if stored is None or record.ip != stored.ip:
        fields["ip"] = record.ip
    if stored is None or record.user_agent != stored.user_agent:
        fields["userAgent"] = record.user_agent
    if record.created_at is not None and (stored is None or record.created_at != stored.created_at):
        fields["createdAt"] = bson_date(record.created_at)
    if record.last_seen_at is not None:
        fields["lastSeenAt"] = bson_date(record.last_seen_at)
    return fields


def listed(doc: Mapping[str, Any]) -> SessionRecord:
    """The listing entry of a document read with :data:`RECORD_FIELDS`."""
    return SessionRecord.of(str(doc["_id"]), record_of(doc), expires_of(doc))


def value_size(value: Any) -> int:
    """Bytes ``value`` takes in a document (exact where it matters: near the limit)."""
    if isinstance(value, str):
        if len(value) * 4 <= MAX_VALUE_SIZE:
            return len(value)  # at most 4 bytes a character: cannot be over, no need to encode
        return len(value.encode("utf-8"))
    import bson

    return len(bson.encode({"v": value}))


class DocumentFormat:
    """One store's way of writing documents: codec, ``lastModified``, timestamps, IDs.

    :param name: how warnings and errors name the store.
    """

    def __init__(
        self,
        name: str,
        codec: SessionCodec,
        *,
        ttl: float,
        touch_after: float | None,
        timestamps: bool,
        transform_id: Callable[[str], Any] | None,
    ) -> None:
        self.name = name
        self.codec = codec
        self.ttl = ttl
        self.touch_after = touch_after
        self.timestamps = timestamps
        self.transform_id = transform_id

    def __repr__(self) -> str:
        return f"<DocumentFormat of {self.name}>"

    def id(self, sid: str) -> Any:
        """The ``_id`` of session ``sid`` (``transform_id``)."""
        return sid if self.transform_id is None else self.transform_id(sid)

    def decode(self, sid: str, raw: Any) -> StoredSession | None:
        """The stored session, or None (with a warning) if it cannot be read."""
        try:
            return self.codec.decode(raw)
        except Exception as exc:
            warn_unreadable(self.name, sid, exc)
            return None

    def loaded(self, sid: str, doc: Mapping[str, Any] | None, now: datetime) -> Loaded | None:
        """What a load of ``doc`` gives: None when missing, expired or unreadable."""
        if doc is None or not is_live(doc, now):
            return None
        session = self.decode(sid, doc.get("session"))
        if session is None:
            return None
        return Loaded(session, version_of(doc), record_of(doc), expires_of(doc))

    def encode(self, sid: str, session: StoredSession) -> Any:
        """The stored value; :class:`SessionTooLargeError` (before any I/O) when too big."""
        value = self.codec.encode(session)
        size = value_size(value)
        if size > MAX_VALUE_SIZE:
            raise too_large(self.name, sid, session, size, MAX_VALUE_SIZE)
        return value

    def express_expiry(self, session: StoredSession, now: datetime) -> datetime:
        """connect-mongo's ``computeExpires``: the cookie's expiry, else now + ttl."""
        return bson_date(stored_expiry(session) or now + timedelta(seconds=self.ttl))

    def update(self, fields: dict[str, Any], now: datetime) -> dict[str, Any]:
        """``$set`` of ``fields`` with a fresh ``rev``, and connect-mongo's extras."""
        fields["rev"] = secrets.token_hex(8)  # 64 random bits
        if self.touch_after:
            fields["lastModified"] = bson_date(now)
        update: dict[str, Any] = {"$set": fields}
        if self.timestamps:
            update["$currentDate"] = {"updatedAt": True}
        return update

    def refresh_update(
        self,
        sid: str,
        session: StoredSession,
        expires: datetime,
        record: Record | None,
        now: datetime,
        stored: Record | None = None,
    ) -> dict[str, Any]:
        """The update storing a new cookie and ``expires`` (and the record, if given).

        The object form sets just ``session.cookie``; JSON text (plain
        or encrypted) is rewritten whole with the new cookie, so the stored
        ``cookie.expires`` stays in step with ``expires`` (connect-mongo#351).
        """
        fields: dict[str, Any] = {"expires": expires}
        if self.codec.is_object_form:
            cookie = session.get("cookie")
            fields["session.cookie"] = object_cookie(cookie if isinstance(cookie, Mapping) else {})
        else:
            fields["session"] = self.encode(sid, session)
        if record is not None:
            fields.update(record_fields(record, stored))
        return self.update(fields, now)

    def throttled(self, doc: Mapping[str, Any], now: datetime) -> bool:
        """connect-mongo's ``touchAfter``: written less than ``touch_after`` seconds ago."""
        last = doc.get("lastModified")
        if not self.touch_after or not isinstance(last, datetime):
            return False
        return now - aware(last) < timedelta(seconds=self.touch_after)
