"""MongoStore's writes: a constant-size compare-and-set, merging on a miss.

What a request loaded travels with it (a
:class:`~flask_sessionstore.stores.base.Loaded` whose version is the
document's ``rev`` and ``expires``, :class:`.mongo_format.Version`); its
save hands it back.  A write is then one ``update_one`` whose filter is
``{_id, rev, expires}`` as loaded and whose update sets the new value
with a fresh ``rev``, so it sends the new value plus a constant,
never the old value (MongoDB's 16 MB document limit therefore allows a
session of nearly 16 MB, and a write costs its own size once).

The filter misses when someone wrote the session since it was read:
another request (a new ``rev``) or a Node app (connect-mongo's writes
always move ``expires``).  The write then reads the current document,
applies this request's changed and removed keys to it
(:meth:`~flask_sessionstore.stores.base.Write.merged_onto`) and tries
again, with a small random back-off under contention, for at most half
the store's ``timeout``.  A document that is gone (a logout, a revoke,
expiry) is never written back: the write returns None.

A refresh (touch) is the same compare-and-set with the new cookie and
``expires``; on a miss it is simply skipped (the write that moved the
version refreshed the session) and it never creates a document.  A new
session (no load) is an upsert.  connect-mongo's own ``set`` and
``touch`` (the express contract) are here too.  Each of :func:`save`,
:func:`refresh`, :func:`replace` and :func:`touch` is one store call: one
:meth:`~.mongo_connection.MongoConnection.operation`, so the whole write,
retries included, is bounded by the store's ``timeout``.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from ..cookie import utcnow
from .base import Loaded, StoredSession, Write
from .errors import StoreUnavailableError
from .mongo_codec import aware, bson_date
from .mongo_format import (
    LOAD_FIELDS,
    DocumentFormat,
    Version,
    is_live,
    record_fields,
    record_of,
    version_of,
)

if TYPE_CHECKING:
    from .mongo_connection import MongoConnection


def save(
    connection: MongoConnection, fmt: DocumentFormat, sid: str, write: Write, patience: float
) -> Loaded | None:
    """A request's save: an upsert of a new session, else a compare-and-set (merging).

    None, writing nothing, when the loaded session has expired or is gone.
    The indexes are checked first when they are due (:mod:`.mongo_indexes`).
    """
    base = write.base
    if base is None or not isinstance(base.version, Version):
        value = fmt.encode(sid, write.session)
        with connection.operation() as coll:
            connection.indexes.before_write(coll, inserting=True)
            return insert(coll, fmt, sid, write, value)
    if not _unexpired(base):
        return None  # expired since it was read: never revive it
    session = write.merged_onto(base.session)
    encoded = (session, fmt.encode(sid, session))
    with connection.operation() as coll:
        connection.indexes.before_write(coll, inserting=False)
        return compare_and_set(coll, fmt, sid, write, base.version, encoded, patience)


def _unexpired(base: Loaded) -> bool:
    """Whether a loaded session is still live by the expiry its load read."""
    return base.expires_at is None or base.expires_at > utcnow()


def refreshable(base: Loaded | None) -> bool:
    """Whether :func:`refresh` applies: a load by this store, not expired since."""
    return base is not None and isinstance(base.version, Version) and _unexpired(base)


def insert(coll: Any, fmt: DocumentFormat, sid: str, write: Write, value: Any) -> Loaded:
    """Store a session that is new in this request: one upsert of the whole document."""
    now = utcnow()
    session, record = write.session, write.final_record(write.session)
    expires = bson_date(write.expiry(session, now, fmt.ttl))
    fields = {"session": value, "expires": expires, **record_fields(record)}
    update = fmt.update(fields, now)
    coll.update_one({"_id": fmt.id(sid)}, update, upsert=True)
    return Loaded(session, Version(fields["rev"], expires), record, aware(expires))


def compare_and_set(
    coll: Any,
    fmt: DocumentFormat,
    sid: str,
    write: Write,
    version: Version,
    encoded: tuple[StoredSession, Any],
    patience: float,
) -> Loaded | None:
    """Write ``encoded`` (session, value) if the document is still ``version``, else merge.

    Gives up after ``patience`` seconds of contention with
    :class:`~flask_sessionstore.StoreUnavailableError` rather than
    overwrite the other writers.
    """
    tid, (session, value) = fmt.id(sid), encoded
    stored = write.base.record if write.base is not None else None
    deadline = time.monotonic() + patience
    attempt = 0
    while True:
        now = utcnow()
        record = write.final_record(session)
        expires = bson_date(write.expiry(session, now, fmt.ttl))
        fields = {"session": value, "expires": expires, **record_fields(record, stored)}
        update = fmt.update(fields, now)
        if coll.update_one(version.query(tid), update).matched_count:
            return Loaded(session, Version(fields["rev"], expires), record, aware(expires))
        attempt += 1
        if attempt > 1:  # contended: back off a little, at random, before reading again
            if time.monotonic() > deadline:
                raise StoreUnavailableError(
                    f"{fmt.name}: session {sid[:8]}... kept changing under {attempt} "
                    f"merge attempts in {patience:g} s; the change was not saved"
                )
            time.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.05)))
        doc = coll.find_one({"_id": tid}, projection=LOAD_FIELDS)
        if doc is None or not is_live(doc, now):
            return None  # destroyed, revoked or expired meanwhile: that wins
        current = fmt.decode(sid, doc.get("session"))
        session = write.session if current is None else write.merged_onto(current)
        value = fmt.encode(sid, session)  # (too big after the merge: nothing written)
        version, stored = version_of(doc), record_of(doc)


def refresh(
    connection: MongoConnection, fmt: DocumentFormat, sid: str, write: Write
) -> Loaded | None:
    """New cookie, ``expires`` and record if the document is still the loaded version."""
    base = write.base
    assert base is not None
    assert isinstance(base.version, Version)
    with connection.operation() as coll:
        now = utcnow()
        session = write.merged_onto(base.session)
        record = write.final_record(session)
        expires = bson_date(write.expiry(session, now, fmt.ttl))
        update = fmt.refresh_update(sid, session, expires, record, now, base.record)
        if not coll.update_one(base.version.query(fmt.id(sid)), update).matched_count:
            return None  # rewritten since it was read (which refreshed it), or gone
        return Loaded(session, Version(update["$set"]["rev"], expires), record, aware(expires))


def replace(
    connection: MongoConnection, fmt: DocumentFormat, sid: str, session: StoredSession
) -> None:
    """connect-mongo's ``set``: upsert the value; the record is left as it was."""
    value = fmt.encode(sid, session)
    with connection.operation() as coll:
        connection.indexes.before_write(coll, inserting=True)
        now = utcnow()
        update = fmt.update({"session": value, "expires": fmt.express_expiry(session, now)}, now)
        if fmt.timestamps:
            update["$setOnInsert"] = {"createdAt": bson_date(now)}
        coll.update_one({"_id": fmt.id(sid)}, update, upsert=True)


def touch(connection: MongoConnection, fmt: DocumentFormat, sid: str, cookie: Any) -> None:
    """connect-mongo's ``touch`` with the stored cookie kept in step (one read, one write)."""
    with connection.operation() as coll:
        now, tid = utcnow(), fmt.id(sid)
        doc = coll.find_one({"_id": tid}, projection={**LOAD_FIELDS, "lastModified": 1})
        if doc is None or not is_live(doc, now) or fmt.throttled(doc, now):
            return
        stored = fmt.decode(sid, doc.get("session"))
        if stored is None:
            return
        stored["cookie"] = cookie
        update = fmt.refresh_update(sid, stored, fmt.express_expiry(stored, now), None, now)
        coll.update_one(version_of(doc).query(tid), update)  # (a newer write wins)
