"""MongoStore's queries over many documents: account control, listings, expiry.

Everything here selects documents by a filter, not by ``_id``:

* a user's sessions: the documents whose ``user`` (the record's owner,
  :mod:`.mongo_format`) is that user and whose ``expires`` is later than
  now.  :func:`sessions_of` and :func:`revoke_user` are one query each on
  the owner index ``user_1_expires_1`` (:mod:`.mongo_indexes`), whatever
  the number of other sessions;
* live sessions (connect-mongo's filter, :func:`.mongo_format.live_filter`):
  :func:`records` for ``flask sessions list`` (the record fields only, never
  the session value), :func:`all_sessions` and :func:`count_live`;
* expired sessions: :func:`delete_expired`, for ``prune`` and the
  ``"interval"`` sweeper when no TTL index removes them.

Each function is one store call: one
:meth:`~.mongo_connection.MongoConnection.operation`, bounded by the store's
``timeout`` and its breaker.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..cookie import utcnow
from ..records import SessionRecord, most_recent_first
from .base import StoredSession
from .mongo_codec import bson_date
from .mongo_format import RECORD_FIELDS, DocumentFormat, listed, live_filter

if TYPE_CHECKING:
    from .mongo_connection import MongoConnection


def sessions_of(connection: MongoConnection, user: str) -> list[SessionRecord]:
    """``user``'s live sessions, most recently seen first."""
    query = {"user": user, "expires": {"$gt": bson_date(utcnow())}}
    with connection.operation() as coll:
        docs = list(coll.find(query, projection=RECORD_FIELDS))
    return most_recent_first([listed(doc) for doc in docs])


def revoke_user(
    connection: MongoConnection, fmt: DocumentFormat, user: str, keep: str | None
) -> int:
    """Delete ``user``'s live sessions but ``keep`` (a session ID); return how many."""
    query: dict[str, Any] = {"user": user, "expires": {"$gt": bson_date(utcnow())}}
    if keep is not None:
        query["_id"] = {"$ne": fmt.id(keep)}
    with connection.operation() as coll:
        deleted: int = coll.delete_many(query).deleted_count
    return deleted


def records(connection: MongoConnection, limit: int | None) -> Iterator[SessionRecord]:
    """Records of live sessions, at most ``limit``; the query runs at the first ``next()``."""
    with connection.operation() as coll:
        cursor = coll.find(live_filter(utcnow()), projection=RECORD_FIELDS)
        docs = list(cursor.limit(limit) if limit else cursor)
    yield from (listed(doc) for doc in docs)


def all_sessions(connection: MongoConnection, fmt: DocumentFormat) -> dict[str, StoredSession]:
    """Every live session that can be read, by ``_id``; unreadable ones are left out."""
    with connection.operation() as coll:
        docs = list(coll.find(live_filter(utcnow()), projection={"session": 1}))
    decoded = ((doc["_id"], fmt.decode(str(doc["_id"]), doc.get("session"))) for doc in docs)
    return {sid: session for sid, session in decoded if session is not None}


def count_live(connection: MongoConnection) -> int:
    """The number of live sessions."""
    with connection.operation() as coll:
        count: int = coll.count_documents(live_filter(utcnow()))
    return count


def delete_expired(connection: MongoConnection) -> int:
    """Delete the sessions that have expired; return how many."""
    with connection.operation() as coll:
        deleted: int = coll.delete_many({"expires": {"$lt": bson_date(utcnow())}}).deleted_count
    return deleted
