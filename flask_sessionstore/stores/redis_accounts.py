"""RedisStore's owner sets and account control: a user's sessions, never a scan.

Each owner has a sorted set ``meta + "own:" + user`` (:mod:`.redis_format`)
of their session IDs, scored by last seen (ms), that lives as long as its
longest-lived session.  The write and refresh scripts keep it: they add the
session to its owner's set and take it out of a previous owner's
(:func:`owner_keys` gives them the sets and the mode).  On Redis Cluster an
owner's set lives in another hash slot than the session, so a script cannot
touch both; the store then updates the set with a second command right after
the write (:func:`update_cluster_owner`).

A set may hold members that are gone (expired, deleted by connect-redis, or
owned by someone else since): :func:`sessions_of` checks each member's record
and drops the stale ones, and :func:`revoke_user` deletes a member only while
its record still names that owner.  :func:`records` lists every live session
for ``flask sessions list``: ``SCAN``, then pipelined record reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..cookie import utcnow
from ..records import Record, SessionRecord, most_recent_first
from .redis_client import Call, RedisConnection
from .redis_format import Keys, as_text, from_ms, record_from, to_ms


def owner_keys(
    keys: Keys, cluster: bool, new: str | None, old: str | None
) -> tuple[list[str], int]:
    """The owner-set KEYS of a write or refresh and the scripts' owner mode."""
    owners: list[str] = []
    mode = 0
    if cluster:
        return owners, mode  # other hash slots: see update_cluster_owner
    if new is not None:
        owners.append(keys.owner(new))
        mode += 1
    if old is not None and old != new:
        owners.append(keys.owner(old))
        mode += 2
    return owners, mode


def update_cluster_owner(
    redis: RedisConnection,
    client: Any,
    keys: Keys,
    sid: str,
    record: Record,
    old: str | None,
    at: int,
) -> None:
    """On Redis Cluster, after a write: what the script's owner update does elsewhere."""
    if record.user is not None:
        score = to_ms(record.last_seen_at or utcnow())
        redis.run(client, "owner", [keys.owner(record.user)], [sid, score, at])
    if old is not None and old != record.user:
        client.zrem(keys.owner(old), sid)


def _members(client: Any, keys: Keys, user: str) -> list[str]:
    return [as_text(member) for member in client.zrange(keys.owner(user), 0, -1)]


def sessions_of(redis: RedisConnection, keys: Keys, user: str) -> list[SessionRecord]:
    """``user``'s live sessions, most recently seen first; stale members dropped."""
    now_ms, found, stale = to_ms(utcnow()), [], []
    with redis.op() as client:
        sids = _members(client, keys, user)
        calls: list[Call] = [("record", keys.script_keys(sid), []) for sid in sids]
        for sid, reply in zip(sids, redis.batch(client, calls), strict=True):
            record = record_from(reply[1]) if reply else None
            expires = int(reply[0]) if reply else 0
            if record is None or record.user != user or 0 <= expires <= now_ms:
                stale.append(sid)  # expired, deleted or re-owned since
                continue
            found.append(SessionRecord.of(sid, record, from_ms(expires) if expires >= 0 else None))
        if stale:
            client.zrem(keys.owner(user), *stale)
    return most_recent_first(found)


def revoke_user(redis: RedisConnection, keys: Keys, user: str, keep: str | None) -> int:
    """Remove every live session of ``user`` but ``keep``; return how many were live."""
    now_ms = to_ms(utcnow())
    with redis.op() as client:
        sids = [sid for sid in _members(client, keys, user) if sid != keep]
        calls: list[Call] = [("revoke", keys.script_keys(sid), [now_ms, user]) for sid in sids]
        revoked = sum(1 for reply in redis.batch(client, calls) if reply == 1)
        if sids:
            client.zrem(keys.owner(user), *sids)
    return revoked


def records(
    redis: RedisConnection, keys: Keys, scan_count: int, limit: int | None
) -> Iterator[SessionRecord]:
    """Records of live sessions: ``SCAN``, then one pipelined read per batch."""
    count, now_ms = 0, to_ms(utcnow())
    with redis.op() as client:
        batches = list(redis.scan(client, keys.sessions_pattern, scan_count))
    for batch in batches:
        sids = [keys.sid_of(key) for key in batch]
        calls: list[Call] = [("record", keys.script_keys(sid), []) for sid in sids]
        with redis.op() as client:
            replies = redis.batch(client, calls)
        for sid, reply in zip(sids, replies, strict=True):
            expires = int(reply[0]) if reply else 0
            if 0 <= expires <= now_ms:
                continue  # gone, or expired by the app's clock
            if limit is not None and count >= limit:
                return
            count += 1
            at = from_ms(expires) if expires >= 0 else None
            yield SessionRecord.of(sid, record_from(reply[1]), at)
