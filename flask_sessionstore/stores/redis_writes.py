"""RedisStore's writes: compare-and-set in one script call, merging on a miss.

What a request loaded travels with it (a
:class:`~flask_sessionstore.stores.base.Loaded` whose version is the SHA-1
of the raw value it read); its save hands it back.  A write is one
``EVALSHA`` of the ``WRITE`` script (:mod:`.redis_scripts`), which stores
the new value, the record and the owner's set only while the stored value
still has that SHA-1 (a session new in this request is written whole).
Because the version is the content's hash, a write by connect-redis (which
knows nothing of versions) is detected too.

When the value changed since the load (another request, or an Express app),
the script hands back the current value instead: this request's changed and
removed keys are applied to it
(:meth:`~flask_sessionstore.stores.base.Write.merged_onto`) and the write
is tried again, with a small random back-off from the third attempt, for at
most the store's ``timeout``.  When the session is gone (a logout, a revoke,
expiry) nothing is written and the write returns None; a session whose
expiry has already passed is deleted instead, as connect-redis does.

A refresh is connect-redis's touch (the key's expiry, not the value) plus
the record, through the ``REFRESH`` script: skipped when the value changed
since the load (that write refreshed it) or is gone.

Both read the store's options (:class:`StoreOptions`) when they run, and
delete an expired session through the store's own ``destroy``.
"""

from __future__ import annotations

import random
import time
from typing import Protocol

from ..cookie import utcnow
from .base import Loaded, Write
from .redis_accounts import owner_keys, update_cluster_owner
from .redis_client import RedisConnection
from .redis_format import Keys, as_bytes, from_ms, key_expiry, record_fields, to_ms, version
from .redis_values import ValueCodec


class StoreOptions(Protocol):
    """What a write reads of its :class:`~flask_sessionstore.RedisStore`."""

    keys: Keys
    ttl: float
    timeout: float
    disable_touch: bool
    disable_ttl: bool
    max_session_size: int | None

    @property
    def name(self) -> str:
        """How errors name the store."""

    def destroy(self, sid: str) -> None:
        """Delete the session and its record."""


def write(
    redis: RedisConnection, values: ValueCodec, store: StoreOptions, sid: str, write: Write
) -> Loaded | None:
    """A new session whole, or this request's changes compare-and-set on its version."""
    keys = store.keys
    base = write.base
    session = write.session
    expected = "" if base is None or base.version is None else str(base.version)
    old_owner = None if base is None else base.record.user
    deadline = time.monotonic() + store.timeout
    attempt = 0
    while True:
        attempt += 1
        raw = values.encode(sid, session, store.max_session_size)
        now = utcnow()
        at = key_expiry(session, now, store.ttl, write.expires_cap)
        if at <= to_ms(now):
            store.destroy(sid)  # connect-redis: an expired session is deleted, not written
            return None
        at = 0 if store.disable_ttl else at
        record = write.final_record(session)
        owners, mode = owner_keys(keys, redis.cluster, record.user, old_owner)
        args = [expected, raw, to_ms(now), at, sid, mode, to_ms(record.last_seen_at or now)]
        with redis.op() as client:
            reply = redis.run(
                client, "write", keys.script_keys(sid) + owners, args + record_fields(record)
            )
            if reply == 1 and redis.cluster:
                update_cluster_owner(redis, client, keys, sid, record, old_owner, at)
        if reply == 1:
            return Loaded(session, version(raw), record, from_ms(at) if at else None)
        if reply == 0:
            return None  # destroyed, revoked or expired since it was read: that wins
        current = as_bytes(reply[0])
        stored = values.decode(sid, current)
        session = write.session if stored is None else write.merged_onto(stored)
        expected = version(current)
        if attempt >= 3:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{store.name}: session {sid[:8]}... kept changing under {attempt} "
                    f"write attempts in {store.timeout:g} s; the change was not saved"
                )
            time.sleep(random.uniform(0, min(0.001 * attempt, 0.05)))


def refresh(redis: RedisConnection, store: StoreOptions, sid: str, write: Write) -> Loaded | None:
    """The key's expiry and the record of a session still at its loaded version."""
    keys = store.keys
    base = write.base
    if store.disable_touch or store.disable_ttl or base is None or base.version is None:
        return None
    session = write.merged_onto(base.session)
    now = utcnow()
    at = key_expiry(session, now, store.ttl, write.expires_cap)
    if at <= to_ms(now):
        store.destroy(sid)
        return None
    record = write.final_record(session)
    owners, mode = owner_keys(keys, redis.cluster, record.user, base.record.user)
    args = [str(base.version), to_ms(now), at, sid, mode, to_ms(record.last_seen_at or now)]
    with redis.op() as client:
        reply = redis.run(
            client, "refresh", keys.script_keys(sid) + owners, args + record_fields(record)
        )
        if reply == 1 and redis.cluster:
            update_cluster_owner(redis, client, keys, sid, record, base.record.user, at)
    if reply != 1:
        return None
    return Loaded(session, base.version, record, from_ms(at))
