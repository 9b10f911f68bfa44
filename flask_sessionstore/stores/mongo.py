"""``MongoStore``: sessions in MongoDB, document-compatible with connect-mongo 6.

A Node app (express-session + connect-mongo) and a Flask app share one
collection, one cookie and one login.  This module holds the options and
each operation's entry point; the rest is one module per concept:

* :mod:`.mongo_writes`: the compare-and-set behind ``write`` and ``refresh``;
* :mod:`.mongo_queries`: many documents at once (``sessions_of``, ``records``...);
* :mod:`.mongo_format` and :mod:`.mongo_codec`: the document and its ``session``;
* :mod:`.mongo_connection`, :mod:`.mongo_errors`, :mod:`.mongo_indexes`: the
  client, ``timeout``, the breaker, outages, the TTL and owner indexes;
* :mod:`.mongo_options`: checking the options, hiding the secrets.

A load is one ``find_one``; a write of a loaded session is one
``update_one`` (plus a read and a retry when someone wrote it meanwhile);
``sessions_of`` and ``revoke_user`` are one query each on the owner index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..cookie import Duration, utcnow
from ..records import SessionRecord
from . import mongo_queries, mongo_writes
from .base import Loaded, Store, StoredSession, Write
from .mongo_codec import SessionCodec
from .mongo_format import LOAD_FIELDS, DocumentFormat, is_live
from .mongo_options import (
    AutoRemove,
    Secrets,
    check_auto_remove,
    check_callables,
    check_durations,
    check_sources,
    check_touch_after,
    check_write_concern,
    make_cipher,
    require_pymongo,
)

if TYPE_CHECKING:
    from .mongo_connection import MongoConnection


class MongoStore(Store):
    """MongoDB session store, document-compatible with connect-mongo 6's ``MongoStore``.

    Exactly one of these says where the sessions live:

    :param client: a pymongo ``MongoClient`` (or mongomock's), connect-mongo's
        ``client``.  The application owns it: create it after forking.
    :param mongo_url: a connection string, connect-mongo's ``mongoUrl``.  The
        store then creates its own client, lazily and once per process.
    :param collection: a ready collection object (no connect-mongo equivalent).

    The other options:

    :param db_name: database (``dbName``); default: the URL's, else ``"test"``.
    :param collection_name: collection (``collectionName``).
    :param ttl: lifetime of sessions whose cookie has no expiry (``ttl``, but
        seconds or ``timedelta``); renewed by every write and touch.
    :param auto_remove: ``"native"`` (a TTL index ``expires_1``, created by
        the first write), ``"interval"`` (a daemon thread deletes expired
        sessions every ``auto_remove_interval``) or ``"disabled"``.
    :param auto_remove_interval: seconds or ``timedelta`` (``autoRemoveInterval``,
        which is in minutes).
    :param touch_after: when a read-only request refreshes the expiry: None
        (automatic: when it would move by more than 1 % of the session's
        lifetime), 0 (every request) or seconds (``touchAfter``; the store
        then writes ``lastModified`` for connect-mongo, and the value must be
        shorter than ``ttl`` and every cookie lifetime).
    :param stringify: store ``session`` as a JSON string (``stringify``);
        False stores a sub-document (field names must then suit MongoDB).
    :param serialize: ``session dict -> stored value`` (``serialize``).
    :param unserialize: ``stored value -> session dict`` (``unserialize``).
        Giving either one overrides ``stringify``, as in connect-mongo.
    :param crypto: ``{"secret": ..., "salt": ..., "iterations": ...,
        "encoding": "base64" | "base64url" | "hex"}``: encrypt ``session`` at
        rest like connect-mongo's ``createWebCryptoAdapter`` (AES-256-GCM).
    :param write_concern: a dict such as ``{"w": "majority"}`` or a pymongo
        ``WriteConcern`` for every session write (``writeOperationOptions``).
    :param transform_id: ``sid -> _id`` (``transformId``).  Records and
        :meth:`all` then name sessions by their stored ``_id``, which
        :meth:`revoke` also accepts.
    :param timestamps: ``createdAt`` on insert and ``updatedAt`` on every
        write (``timestamps``); ``createdAt`` is also the record's.
    :param timeout: seconds that bound every store call (pymongo's
        ``timeout()``, whoever made the client), a hung server included;
        default ``timeoutMS`` from the URL or client, else 5.  While the
        server is known to be down, calls fail at once.
    :param mongo_options: keyword arguments for the ``MongoClient`` built
        from ``mongo_url`` (``mongoOptions``).  Options given here or in the
        URL win over the store's defaults (``serverSelectionTimeoutMS`` and
        ``connectTimeoutMS`` from ``timeout``, ``appname``).

    Nothing touches the network at construction; a missing pymongo is an
    ``ImportError`` here.  Reads go to the primary.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        mongo_url: str | None = None,
        db_name: str | None = None,
        collection_name: str = "sessions",
        collection: Any = None,
        ttl: Duration = timedelta(days=14),
        auto_remove: AutoRemove = "native",
        auto_remove_interval: Duration = timedelta(minutes=10),
        touch_after: Duration = None,
        stringify: bool = True,
        serialize: Callable[[StoredSession], Any] | None = None,
        unserialize: Callable[[Any], Any] | None = None,
        crypto: Mapping[str, Any] | None = None,
        write_concern: Any = None,
        transform_id: Callable[[str], Any] | None = None,
        timestamps: bool = False,
        timeout: Duration = None,
        mongo_options: Mapping[str, Any] | None = None,
    ) -> None:
        # Error trackers show every frame's local variables: the URL's
        # password, mongo_options and the crypto secret never stay in one.
        secrets = Secrets(mongo_url, mongo_options, crypto)
        del mongo_url, mongo_options, crypto
        require_pymongo()
        from .mongo_connection import MongoConnection
        from .mongo_indexes import OWNER_INDEX, TTL_INDEX

        check_sources(client, secrets, collection, db_name, collection_name)
        check_callables(serialize=serialize, unserialize=unserialize, transform_id=transform_id)
        check_write_concern(write_concern)
        self.auto_remove: AutoRemove = check_auto_remove(auto_remove)
        durations = check_durations(ttl, auto_remove_interval, touch_after, timeout)
        self.ttl: float = durations.ttl
        self.auto_remove_interval = durations.auto_remove_interval
        self.touch_after = durations.touch_after
        self.stringify = bool(stringify)
        self.timestamps = bool(timestamps)
        self.db_name = db_name
        self.collection_name = collection_name
        self._connection: MongoConnection = MongoConnection(
            client=client,
            url=secrets.url,
            url_options=secrets.mongo_options or {},
            collection=collection,
            db_name=db_name,
            collection_name=collection_name,
            write_concern=write_concern,
            timeout=durations.timeout,
            indexes=[TTL_INDEX, OWNER_INDEX] if self.auto_remove == "native" else [OWNER_INDEX],
        )
        #: Seconds that bound every store call.
        self.timeout: float = self._connection.timeout
        codec = SessionCodec(self.stringify, serialize, unserialize, make_cipher(secrets))
        self._format = DocumentFormat(
            self.name,
            codec,
            ttl=self.ttl,
            touch_after=self.touch_after,
            timestamps=self.timestamps,
            transform_id=transform_id,
        )
        self._transformed = transform_id is not None
        if self.auto_remove == "interval":
            self._connection.sweep_every(self.auto_remove_interval, self._delete_expired)

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @property
    def name(self) -> str:
        """``MongoStore(<db>.<collection>)``, how log lines and errors name this store."""
        connection = self.__dict__.get("_connection")  # (None while __init__ runs)
        return "MongoStore(<being configured>)" if connection is None else connection.name

    @property
    def connection(self) -> MongoConnection:
        """The client, collection, indexes and health (breaker) of this store."""
        return self._connection

    @property
    def expires_natively(self) -> bool:
        """With ``auto_remove="native"`` the server's TTL monitor removes expired sessions."""
        return self.auto_remove == "native"

    # -- the session's side ----------------------------------------------------

    def load(self, sid: str) -> Loaded | None:
        """The live session with its version, record and expiry: one ``find_one``."""
        with self._connection.operation() as coll:
            doc = coll.find_one({"_id": self._format.id(sid)}, projection=LOAD_FIELDS)
        return self._format.loaded(sid, doc, utcnow())

    def write(self, sid: str, write: Write) -> Loaded | None:
        """Store one request's save: an upsert if new, else a compare-and-set (merging).

        Returns None, writing nothing, when the loaded session is gone.
        """
        check_touch_after(self.name, self.touch_after, write.session)
        return mongo_writes.save(self._connection, self._format, sid, write, self.timeout / 2)

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        """New expiry, stored cookie and record for a session unchanged since it was read.

        None (nothing written) when it was rewritten since (that write
        refreshed it) or is gone; never creates a document.
        """
        if not mongo_writes.refreshable(write.base):
            return None
        check_touch_after(self.name, self.touch_after, write.session)
        return mongo_writes.refresh(self._connection, self._format, sid, write)

    def revoke(self, sid: str) -> bool:
        """Remove ``sid`` now (one ``findOneAndDelete``); True if it was live.

        With ``transform_id``, the stored ``_id`` that records show works too.
        """
        with self._connection.operation() as coll:
            doc = coll.find_one_and_delete({"_id": self._format.id(sid)}, {"expires": 1})
            if doc is None and self._transformed:
                doc = coll.find_one_and_delete({"_id": sid}, {"expires": 1})
        return doc is not None and is_live(doc, utcnow())

    # -- account control ---------------------------------------------------------

    def sessions_of(self, user: str) -> list[SessionRecord]:
        """``user``'s live sessions, most recently seen first: one query on the owner index."""
        return mongo_queries.sessions_of(self._connection, user)

    def revoke_user(self, user: str, *, keep: str | None = None) -> int:
        """Remove ``user``'s live sessions but ``keep``: one ``deleteMany`` on the owner index."""
        return mongo_queries.revoke_user(self._connection, self._format, user, keep)

    def records(self, limit: int | None = None) -> Iterator[SessionRecord]:
        """Records of live sessions (``flask sessions list``), without their data."""
        return mongo_queries.records(self._connection, limit)

    # -- the express contract ---------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """connect-mongo's ``get``: the live session, or None (missing, expired, unreadable).

        With ``transform_id``, the stored ``_id`` that records show works too
        (``flask sessions show`` takes what ``list`` prints); the request
        path's :meth:`load` takes only session IDs.
        """
        loaded = self.load(sid)
        if loaded is None and self._transformed:
            with self._connection.operation() as coll:
                doc = coll.find_one({"_id": sid}, projection=LOAD_FIELDS)
            loaded = self._format.loaded(sid, doc, utcnow())
        return None if loaded is None else loaded.session

    def set(self, sid: str, session: StoredSession) -> None:
        """connect-mongo's ``set``: one ``update_one`` upsert; the record is left as it was."""
        check_touch_after(self.name, self.touch_after, session)
        mongo_writes.replace(self._connection, self._format, sid, session)

    def touch(self, sid: str, session: StoredSession) -> None:
        """connect-mongo's ``touch``, fixed: refresh ``expires`` *and* the stored cookie.

        Only ``session["cookie"]`` is used; the data stays the stored data.
        Within ``touch_after`` of the last write it does nothing.  Never
        creates a session, never overwrites a concurrent write; a vanished
        one is not an error (connect-mongo#459).
        """
        check_touch_after(self.name, self.touch_after, session)
        mongo_writes.touch(self._connection, self._format, sid, session.get("cookie"))

    def destroy(self, sid: str) -> None:
        """connect-mongo's ``destroy``: one ``delete_one``; a missing session is fine."""
        with self._connection.operation() as coll:
            coll.delete_one({"_id": self._format.id(sid)})

    def all(self) -> dict[str, StoredSession]:
        """Every live, readable session by ``_id`` (connect-mongo's ``all`` returns a list)."""
        return mongo_queries.all_sessions(self._connection, self._format)

    def length(self) -> int:
        """The number of live sessions (connect-mongo's ``length`` also counts expired ones)."""
        return mongo_queries.count_live(self._connection)

    def clear(self) -> None:
        """connect-mongo's ``clear``: ``delete_many({})``, keeping the indexes."""
        with self._connection.operation() as coll:
            coll.delete_many({})

    def prune(self) -> int:
        """Delete expired sessions now; 0 without a call when the TTL index does it."""
        if self.auto_remove == "native":
            return 0
        return self._delete_expired()

    def _delete_expired(self) -> int:
        return mongo_queries.delete_expired(self._connection)

    def close(self) -> None:
        """Stop the ``"interval"`` sweeper and close the client the store created
        (connect-mongo's ``close()``; a client you passed in stays open).
        """
        self._connection.close()
