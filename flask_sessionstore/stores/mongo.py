"""``MongoStore``: sessions in MongoDB, document-compatible with connect-mongo 6.

Every session is one document with connect-mongo's schema::

    {_id: sid, session: '{"cookie":{...},...}', expires: ISODate
     [, lastModified: ISODate]              # touch_after > 0
     [, createdAt: ISODate, updatedAt: ISODate]}   # timestamps=True

so a Node app (express-session + connect-mongo) and a Flask app can share one
collection, one cookie and one login.  The queries are connect-mongo's
(``findOne`` by ``_id`` ignoring expired documents, ``updateOne`` with upsert,
``deleteOne``),
with its known defects fixed:

* ``touch`` keeps ``session.cookie.expires`` in step with the top-level
  ``expires`` (connect-mongo#351).  With ``stringify=True`` the JSON string has
  to be rewritten, so ``touch`` re-serializes the copy this thread last read
  with the new cookie and writes it *only if the stored value is still that
  copy* (a compare-and-set in the filter of the same single ``update_one``).
  A concurrent request that changed the data in the meantime is never
  overwritten by a read-only request (that would bring back the lost updates
  ``resave=False`` exists to avoid); its own write already refreshed the
  expiry, so nothing is lost by skipping ours.  With ``stringify=False`` the
  cookie is a sub-document and ``touch`` simply ``$set``s ``session.cookie``.
  MongoDB rewrites the whole document on any update, so neither way costs a
  round trip or a write more than connect-mongo's ``$set`` of ``expires``.
* Writes of a loaded session go through :meth:`MongoStore.merge`, the same
  compare-and-set: when another request rewrote the session since this one
  read it, the changed keys are applied to the current version, so two
  requests changing different keys both keep their change (connect-mongo:
  last writer wins).  Without contention it is the same single ``update_one``.
* A ``touch`` that matches nothing (the TTL monitor or a logout got there
  first) is not an error (connect-mongo#459).
* ``length`` counts only live sessions; ``all`` returns ``{sid: session}``.
* ``touch_after`` never leaks into session data: connect-mongo adds
  ``lastModified`` to ``req.session`` (and drops a user key of that name).
  Here ``get`` keeps the raw stored value and ``lastModified`` aside in a
  small per-thread memo (a request is served by one thread, which calls
  ``get`` before ``touch``), so the data the view sees is exactly what was
  stored.  A ``touch_after`` that is not shorter than the cookie lifetime is
  rejected (connect-mongo silently lets active users' sessions expire).
* A corrupt document (bad JSON, failed decryption, no ``cookie``) reads as
  no session, with a warning, instead of a 500 on every request.

Nothing touches the network at construction: the client, the collection and
the TTL index are set up on first use, again in each process (a ``--preload``
fork gets its own client).  Database errors propagate after one logged error
line naming the store, so a lost save is never reported as success.

pymongo is imported only when the store first connects (the ``mongo`` extra),
and ``cryptography`` only when ``crypto=`` is given (the ``crypto`` extra).
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from ..cookie import Duration, to_seconds, utcnow
from .base import Store, StoredSession, stored_expiry
from .mongo_format import SessionCodec, aware, bson_date, is_live, object_cookie

if TYPE_CHECKING:
    from ..crypto import SessionCipher

logger = logging.getLogger("flask_sessionstore")

#: ``auto_remove`` values (connect-mongo's ``autoRemove``).
AutoRemove = Literal["native", "interval", "disabled"]
AUTO_REMOVE_MODES = ("native", "interval", "disabled")
#: Name and spec of connect-mongo's TTL index; options in connect-mongo's order.
TTL_INDEX_NAME = "expires_1"
_TTL_INDEX_KEYS = [("expires", 1)]

_MEMO_SIZE = 32
# The server codes of an index that exists with other options or another name.
_INDEX_CONFLICT_CODES = (85, 86)


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
    :param auto_remove: ``"native"`` (a TTL index ``expires_1``, created on
        first use), ``"interval"`` (a daemon thread deletes expired sessions
        every ``auto_remove_interval``) or ``"disabled"`` (``autoRemove``).
    :param auto_remove_interval: seconds or ``timedelta`` (``autoRemoveInterval``,
        which is in minutes).
    :param touch_after: seconds (or ``timedelta``) within which a read-only
        request does not refresh the expiry again (``touchAfter``).  Must be
        shorter than every session's cookie lifetime (``ValueError`` otherwise).
    :param stringify: store ``session`` as a JSON string (``stringify``);
        False stores a sub-document (field names must then suit MongoDB).
    :param serialize: ``session dict -> stored value`` (``serialize``).
    :param unserialize: ``stored value -> session dict`` (``unserialize``).
        Giving either one overrides ``stringify``, as in connect-mongo.
    :param crypto: ``{"secret": ..., "salt": ..., "iterations": ...,
        "encoding": "base64" | "base64url" | "hex"}``: encrypt ``session`` at
        rest like connect-mongo's ``cryptoAdapter: createWebCryptoAdapter(...)``
        (AES-256-GCM, see :mod:`flask_sessionstore.crypto`).
    :param write_concern: a dict such as ``{"w": "majority"}`` or a pymongo
        ``WriteConcern`` for every session write (``writeOperationOptions``).
    :param transform_id: ``sid -> _id`` (``transformId``).
    :param timestamps: add ``createdAt`` on insert and ``updatedAt`` on every
        write and touch (``timestamps``).
    :param timeout: seconds the client the store creates from ``mongo_url``
        waits to find or connect to a server before an operation fails
        (``serverSelectionTimeoutMS`` and ``connectTimeoutMS``); default 5.
    :param mongo_options: extra keyword arguments for the ``MongoClient``
        built from ``mongo_url`` (``mongoOptions``), e.g. TLS or
        ``socketTimeoutMS``; they override ``timeout``.

    Reads go to the primary, so a request always sees the previous request's
    write.  With ``transform_id``, :meth:`all` is keyed by the stored ``_id``.
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
        touch_after: Duration = 0,
        stringify: bool = True,
        serialize: Callable[[StoredSession], Any] | None = None,
        unserialize: Callable[[Any], Any] | None = None,
        crypto: Mapping[str, Any] | None = None,
        write_concern: Any = None,
        transform_id: Callable[[str], Any] | None = None,
        timestamps: bool = False,
        timeout: Duration = 5.0,
        mongo_options: Mapping[str, Any] | None = None,
    ) -> None:
        sources = (("client", client), ("mongo_url", mongo_url), ("collection", collection))
        given = [name for name, value in sources if value is not None]
        if len(given) != 1:
            raise ValueError(
                "MongoStore needs exactly one of client (a MongoClient), mongo_url "
                "(a mongodb:// connection string) or collection (a collection object); "
                + (f"got {' and '.join(given)}" if given else "got none")
            )
        if mongo_url is not None and not isinstance(mongo_url, str):
            raise TypeError(f"MongoStore mongo_url must be a str, not {mongo_url!r}")
        if collection is not None and (db_name is not None or collection_name != "sessions"):
            raise ValueError(
                "MongoStore db_name and collection_name do not apply with collection=; "
                "the collection object already names both"
            )
        if mongo_options is not None and mongo_url is None:
            raise ValueError("MongoStore mongo_options apply only with mongo_url=")
        if auto_remove not in AUTO_REMOVE_MODES:
            raise ValueError(
                f"MongoStore auto_remove must be one of {', '.join(map(repr, AUTO_REMOVE_MODES))}, "
                f"not {auto_remove!r}"
            )
        self.ttl: float = self._positive(ttl, "ttl")
        self.auto_remove_interval = self._positive(auto_remove_interval, "auto_remove_interval")
        self.timeout = self._positive(timeout, "timeout")
        self.touch_after = to_seconds(touch_after, "MongoStore touch_after") or 0.0
        if self.touch_after >= self.ttl:
            raise ValueError(
                f"MongoStore touch_after ({self.touch_after:g} s) must be shorter than "
                f"ttl ({self.ttl:g} s), the lifetime of browser-session cookies"
            )
        for name, func in (
            ("serialize", serialize),
            ("unserialize", unserialize),
            ("transform_id", transform_id),
        ):
            if func is not None and not callable(func):
                raise TypeError(f"MongoStore {name} must be callable or None, not {func!r}")
        if write_concern is not None and not (
            isinstance(write_concern, Mapping) or hasattr(write_concern, "document")
        ):
            raise TypeError(
                "MongoStore write_concern must be a dict such as {'w': 'majority'} "
                f"or a pymongo WriteConcern, not {write_concern!r}"
            )

        self.auto_remove: AutoRemove = auto_remove
        self.stringify = bool(stringify)
        self.timestamps = bool(timestamps)
        self.db_name = db_name
        self.collection_name = collection_name
        self._client = client
        self._mongo_url = mongo_url
        self._mongo_options = dict(mongo_options or {})
        self._given_collection = collection
        self._write_concern = write_concern
        self._transform_id = transform_id
        cipher: SessionCipher | None = None
        if crypto is not None:
            from ..crypto import SessionCipher

            cipher = SessionCipher.from_options(crypto)
        self._codec = SessionCodec(self.stringify, serialize, unserialize, cipher)
        # touch can $set session.cookie only when the cookie is a sub-document.
        self._patch_cookie = self._codec.is_object_form

        self._lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._pid: int | None = None
        self._collection: Any = None
        self._owned_client: Any = None
        self._index_ready = auto_remove != "native"
        self._sweeper_stop = threading.Event()
        self._reads = threading.local()

    @staticmethod
    def _positive(value: Duration, option: str) -> float:
        seconds = to_seconds(value, f"MongoStore {option}")
        if not seconds:
            raise ValueError(f"MongoStore {option} must be a positive duration, not {value!r}")
        return seconds

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @property
    def name(self) -> str:
        """``MongoStore(<db>.<collection>)``, how log lines and errors name this store."""
        target = self._collection if self._collection is not None else self._given_collection
        where = getattr(target, "full_name", None)
        if not isinstance(where, str):
            where = f"{self.db_name or '<default db>'}.{self.collection_name}"
        return f"MongoStore({where})"

    # -- connection, index and sweeper (lazy, once per process) -------------

    def _coll(self) -> Any:
        pid = os.getpid()
        if self._collection is None or self._pid != pid:
            with self._lock:
                if self._collection is None or self._pid != pid:
                    self._collection = self._connect()
                    self._pid = pid
                    if self.auto_remove == "interval":
                        self._start_sweeper()
        if not self._index_ready:
            self._ensure_index(self._collection)
        return self._collection

    def _connect(self) -> Any:
        if self._given_collection is not None:
            base = self._given_collection
        else:
            client = self._client
            if client is None:
                try:
                    import pymongo
                except ImportError as exc:
                    raise ImportError(
                        "MongoStore(mongo_url=...) needs pymongo: install the 'mongo' extra "
                        "(pip install 'flask-express-session[mongo]')"
                    ) from exc

                ms = int(self.timeout * 1000)
                options: dict[str, Any] = {
                    "serverSelectionTimeoutMS": ms,
                    "connectTimeoutMS": ms,
                    "connect": False,
                    "appname": "flask-sessionstore",
                }
                options.update(self._mongo_options)
                # A fresh client per process: pymongo clients are not fork-safe,
                # and the parent's is simply left alone.
                client = self._owned_client = pymongo.MongoClient(self._mongo_url, **options)
            database = (
                client.get_default_database("test")
                if self.db_name is None
                else client[self.db_name]
            )
            base = database[self.collection_name]
        try:
            from pymongo import ReadPreference
            from pymongo.write_concern import WriteConcern
        except ImportError:  # a pymongo-like client without pymongo (mongomock alone)
            return base
        concern = self._write_concern
        if isinstance(concern, Mapping):
            concern = WriteConcern(**concern)
        return base.with_options(read_preference=ReadPreference.PRIMARY, write_concern=concern)

    def _ensure_index(self, coll: Any) -> None:
        with self._index_lock:
            if self._index_ready:
                return
            try:
                # connect-mongo's index, options in its order (some servers compare the order).
                coll.create_index(_TTL_INDEX_KEYS, background=True, expireAfterSeconds=0)
            except Exception as exc:
                if not self._index_conflict(exc):
                    raise
                self._check_existing_index(coll, exc)
            self._index_ready = True

    @staticmethod
    def _index_conflict(exc: Exception) -> bool:
        code = getattr(exc, "code", None)
        if code in _INDEX_CONFLICT_CODES:
            return True
        return type(exc).__name__ == "OperationFailure" and "already exists" in str(exc)

    def _check_existing_index(self, coll: Any, exc: Exception) -> None:
        """Accept an existing index equivalent to ours; anything else is a clear error."""
        details = getattr(exc, "details", None) or {}
        reason = f"{getattr(exc, 'code', None)} {details.get('codeName', type(exc).__name__)}"
        indexes: dict[str, Any] = coll.index_information()
        found = []
        for name, info in indexes.items():
            keys = [(field, int(direction)) for field, direction in info.get("key", [])]
            if name == TTL_INDEX_NAME or keys == _TTL_INDEX_KEYS:
                if keys == _TTL_INDEX_KEYS and info.get("expireAfterSeconds") == 0:
                    return
                options = {k: v for k, v in info.items() if k not in ("key", "v", "ns")}
                found.append(f"{name} on {dict(keys)} with {options}")
        raise RuntimeError(
            f"{self.name} cannot create its TTL index {TTL_INDEX_NAME} "
            f"({{expires: 1}}, expireAfterSeconds=0, connect-mongo's): the collection has "
            f"{'; '.join(found) or 'a conflicting index'}. Drop that index, or pass "
            f"auto_remove='interval' or 'disabled' (server error {reason})"
        ) from exc

    def _start_sweeper(self) -> None:
        self._sweeper_stop = stop = threading.Event()
        thread = threading.Thread(
            target=self._sweep, args=(stop,), name=f"{self.name} sweeper", daemon=True
        )
        thread.start()

    def _sweep(self, stop: threading.Event) -> None:
        while not stop.wait(self.auto_remove_interval):
            try:
                self._delete_expired()
            except Exception:  # already logged by _op; the next round tries again
                continue

    def close(self) -> None:
        """Stop the ``"interval"`` sweeper and close the client the store created
        (connect-mongo's ``close()``; a client you passed in stays open).
        """
        self._sweeper_stop.set()
        with self._lock:
            if self._owned_client is not None and self._pid == os.getpid():
                self._owned_client.close()
            self._owned_client = self._collection = self._pid = None

    @contextmanager
    def _op(self, action: str) -> Iterator[Any]:
        """The collection, ready; a failure inside is logged once, naming the store."""
        try:
            yield self._coll()
        except Exception as exc:
            text = str(exc)
            logger.error(
                "%s: %s failed: %s: %s",
                self.name,
                action,
                type(exc).__name__,
                text if len(text) <= 300 else text[:300] + "...",
            )
            raise

    # -- encoding -----------------------------------------------------------

    def _id(self, sid: str) -> Any:
        return sid if self._transform_id is None else self._transform_id(sid)

    def _decode(self, sid: str, raw: Any) -> StoredSession | None:
        """The stored session, or None (with a warning) if it cannot be read."""
        try:
            return self._codec.decode(raw)
        except Exception as exc:
            logger.warning(
                "%s: session %.8s... is unreadable and treated as missing (%s: %s)",
                self.name,
                sid,
                type(exc).__name__,
                exc,
            )
            return None

    def _expires(self, session: StoredSession, now: datetime) -> datetime:
        """connect-mongo's ``computeExpires``: the cookie's expiry, else now + ttl."""
        expires = stored_expiry(session)
        return bson_date(expires if expires is not None else now + timedelta(seconds=self.ttl))

    @staticmethod
    def _live(now: datetime) -> dict[str, Any]:
        return {"$or": [{"expires": {"$exists": False}}, {"expires": {"$gt": bson_date(now)}}]}

    def _check_touch_after(self, session: StoredSession) -> None:
        if not self.touch_after:
            return
        cookie = session.get("cookie")
        lifetime = cookie.get("originalMaxAge") if isinstance(cookie, Mapping) else None
        if (
            isinstance(lifetime, (int, float))
            and not isinstance(lifetime, bool)
            and self.touch_after * 1000 >= lifetime
        ):
            raise ValueError(
                f"{self.name} touch_after ({self.touch_after:g} s) must be shorter than "
                f"the session cookie's lifetime (originalMaxAge {lifetime:g} ms = "
                f"{lifetime / 1000:g} s): otherwise active users' sessions expire in "
                "the database while their cookie is still valid. Lower touch_after "
                "or raise the cookie max_age."
            )

    # -- the per-thread memo of what get read ---------------------------------

    def _remember(self, sid: str, raw: Any, last_modified: datetime | None) -> None:
        memo: dict[str, tuple[Any, datetime | None]] | None = getattr(self._reads, "memo", None)
        if memo is None:
            memo = self._reads.memo = {}
        memo.pop(sid, None)
        memo[sid] = (raw, last_modified)
        if len(memo) > _MEMO_SIZE:
            del memo[next(iter(memo))]

    def _recall(self, sid: str) -> tuple[Any, datetime | None] | None:
        memo: dict[str, tuple[Any, datetime | None]] | None = getattr(self._reads, "memo", None)
        return None if memo is None else memo.pop(sid, None)

    # -- the Store contract ---------------------------------------------------

    def get(self, sid: str) -> StoredSession | None:
        """connect-mongo's ``get``: the live session, or None (missing, expired, unreadable).

        One ``find_one`` on ``_id``; a document whose ``expires`` has passed
        is ignored (the TTL monitor may lag by a minute).  The expiry is
        checked here rather than in the query: the same single round trip,
        and cheaper for servers (and mongomock) than connect-mongo's ``$or``.
        """
        now = utcnow()
        with self._op("get") as coll:
            doc = coll.find_one(
                {"_id": self._id(sid)},
                projection={"session": 1, "lastModified": 1, "expires": 1},
            )
        self._recall(sid)
        if doc is None or not is_live(doc, now):
            return None
        raw = doc.get("session")
        session = self._decode(sid, raw)
        if session is not None:
            self._remember(sid, raw, doc.get("lastModified"))
        return session

    def set(self, sid: str, session: StoredSession) -> None:
        """connect-mongo's ``set``: one ``update_one`` upsert of the whole document."""
        self._check_touch_after(session)
        now = utcnow()
        value = self._codec.encode(session)
        fields: dict[str, Any] = {"session": value, "expires": self._expires(session, now)}
        if self.touch_after:
            fields["lastModified"] = bson_date(now)
        update: dict[str, Any] = {"$set": fields}
        if self.timestamps:
            update["$setOnInsert"] = {"createdAt": bson_date(now)}
            update["$currentDate"] = {"updatedAt": True}
        with self._op("set") as coll:
            coll.update_one({"_id": self._id(sid)}, update, upsert=True)
        self._remember(sid, value, fields.get("lastModified"))

    def merge(
        self,
        sid: str,
        session: StoredSession,
        changed: Collection[str],
        removed: Collection[str],
    ) -> None:
        """Write one request's changed and removed keys onto the stored session.

        Normally one ``update_one``, as a compare-and-set on the value this
        thread read: when another request (or a Node app) rewrote the session
        meanwhile, its current version is read again and the keys are applied
        to it, so concurrent requests changing different keys both keep their
        change.  A session that has vanished (destroyed or expired since it
        was read) is not written back; an unreadable one is replaced whole.
        Under contention it retries with a small random back-off; if the
        session still keeps changing after ``timeout`` seconds it raises
        (the request fails) rather than overwrite the other writers.
        """
        self._check_touch_after(session)
        tid = self._id(sid)
        remembered = self._recall(sid)
        raw = None if remembered is None else remembered[0]
        first = True
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            attempt += 1
            if attempt > 2:
                if time.monotonic() > deadline:
                    message = (
                        f"{self.name}: session {sid[:8]}... kept changing under "
                        f"{attempt - 1} merge attempts in {self.timeout:g} s; "
                        "the change was not saved"
                    )
                    logger.error(message)
                    raise RuntimeError(message)
                # contended: back off a little, at random, before re-reading
                time.sleep(random.uniform(0, min(0.001 * attempt, 0.05)))
            now = utcnow()
            if first and raw is not None:
                # Unchanged since this thread read it: the merge is the session itself.
                first = False
                value = self._codec.encode(session)
                if self._write_if_unchanged(tid, raw, value, session, now):
                    return  # (nothing remembered: only a fresh read may skip the re-read)
                raw = None
            if raw is None:
                with self._op("merge") as coll:
                    doc = coll.find_one({"_id": tid, **self._live(now)}, projection={"session": 1})
                if doc is None:
                    return  # destroyed or expired since it was read: a logout elsewhere wins
                raw = doc.get("session")
            stored = self._decode(sid, raw)
            if stored is None:
                self.set(sid, session)  # unreadable: replace it whole
                return
            for key in removed:
                stored.pop(key, None)
            stored.update({key: session[key] for key in changed})
            stored["cookie"] = session.get("cookie")
            value = self._codec.encode(stored)
            if self._write_if_unchanged(tid, raw, value, session, now):
                return
            raw = None  # rewritten since it was read: merge onto the current version

    def _write_if_unchanged(
        self, tid: Any, raw: Any, value: Any, session: StoredSession, now: datetime
    ) -> bool:
        """Replace the stored ``session`` with ``value`` if it is still ``raw`` (one update)."""
        fields: dict[str, Any] = {"session": value, "expires": self._expires(session, now)}
        if self.touch_after:
            fields["lastModified"] = bson_date(now)
        update: dict[str, Any] = {"$set": fields}
        if self.timestamps:
            update["$currentDate"] = {"updatedAt": True}
        with self._op("merge") as coll:
            result = coll.update_one({"_id": tid, "session": raw}, update)
        return bool(result.matched_count)

    def touch(self, sid: str, session: StoredSession) -> None:
        """connect-mongo's ``touch``, fixed: refresh ``expires`` *and* the stored cookie.

        Only ``session["cookie"]`` is taken from the argument; the data stays
        the stored data.  Within ``touch_after`` of the last write it does
        nothing.  Never creates a session; a vanished one is not an error.
        Normally one ``update_one`` (a ``find_one`` first only when this
        thread has not read the session).
        """
        self._check_touch_after(session)
        now = utcnow()
        tid = self._id(sid)
        remembered = self._recall(sid)
        if remembered is None:
            with self._op("touch") as coll:
                doc = coll.find_one(
                    {"_id": tid, **self._live(now)}, projection={"session": 1, "lastModified": 1}
                )
            if doc is None:
                return
            remembered = (doc.get("session"), doc.get("lastModified"))
        raw, last_modified = remembered
        if (
            self.touch_after
            and last_modified is not None
            and now - aware(last_modified) < timedelta(seconds=self.touch_after)
        ):
            self._remember(sid, raw, last_modified)
            return
        cookie = session.get("cookie")
        fields: dict[str, Any] = {"expires": self._expires(session, now)}
        if self.touch_after:
            fields["lastModified"] = bson_date(now)
        # never revive an expired session; every document we or connect-mongo
        # write has ``expires``, and a plain $gt is cheaper than an $or
        query: dict[str, Any] = {"_id": tid, "expires": {"$gt": bson_date(now)}}
        if self._patch_cookie:
            fields["session.cookie"] = object_cookie(cookie if isinstance(cookie, Mapping) else {})
            value = None
        else:
            stored = self._decode(sid, raw)
            if stored is None:
                return
            stored["cookie"] = cookie
            value = fields["session"] = self._codec.encode(stored)
            query["session"] = raw  # compare-and-set: never overwrite a newer write
        update: dict[str, Any] = {"$set": fields}
        if self.timestamps:
            update["$currentDate"] = {"updatedAt": True}
        with self._op("touch") as coll:
            result = coll.update_one(query, update)
        if result.matched_count:
            if value is not None:
                self._remember(sid, value, fields.get("lastModified"))
        else:
            logger.debug(
                "%s: touch of session %.8s... found nothing to refresh (expired, "
                "destroyed or rewritten since it was read)",
                self.name,
                sid,
            )

    def destroy(self, sid: str) -> None:
        """connect-mongo's ``destroy``: one ``delete_one``; a missing session is fine."""
        self._recall(sid)
        with self._op("destroy") as coll:
            coll.delete_one({"_id": self._id(sid)})

    def all(self) -> dict[str, StoredSession]:
        """Every live, readable session by ``_id`` (connect-mongo's ``all`` returns a list)."""
        now = utcnow()
        result: dict[str, StoredSession] = {}
        with self._op("all") as coll:
            for doc in coll.find(self._live(now), projection={"session": 1}):
                sid = doc["_id"]
                session = self._decode(str(sid), doc.get("session"))
                if session is not None:
                    result[sid] = session
        return result

    def length(self) -> int:
        """The number of live sessions (connect-mongo's ``length`` also counts expired ones)."""
        now = utcnow()
        with self._op("length") as coll:
            count: int = coll.count_documents(self._live(now))
        return count

    def clear(self) -> None:
        """connect-mongo's ``clear``: ``delete_many({})``, keeping the TTL index."""
        memo = getattr(self._reads, "memo", None)
        if memo is not None:
            memo.clear()
        with self._op("clear") as coll:
            coll.delete_many({})

    def prune(self) -> int:
        """Delete expired sessions now and return how many went.

        With ``auto_remove="native"`` the server's TTL monitor does this, so
        it returns 0 without a database call.
        """
        if self.auto_remove == "native":
            return 0
        return self._delete_expired()

    def _delete_expired(self) -> int:
        with self._op("removing expired sessions") as coll:
            deleted: int = coll.delete_many({"expires": {"$lt": bson_date(utcnow())}}).deleted_count
        return deleted
