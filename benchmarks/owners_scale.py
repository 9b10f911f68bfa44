"""``sessions_of`` / ``revoke_user`` latency as the number of other sessions grows.

For each store, one collection (or Redis database, or MemoryStore) is filled
in stages (10³, 10⁵, 10⁶ sessions by default).  At every stage a target user
owns :data:`HANDFUL` sessions, written through the store's own ``write``;
the store's own ``sessions_of`` and ``revoke_user`` are timed (medians over
repeated calls; before each ``revoke_user`` the handful is written again).
"Flat" means the latency does not grow with the number of other sessions.

Filling is fast and faithful: one session is written through the store, its
raw form read back and used as the template of every other one, so the
documents (MongoDB: ``_id``, ``session``, ``expires``, ``rev``, ``user``,
``createdAt``, ``lastSeenAt``, ``ip``, ``userAgent``) and keys (Redis: the
session, its record hash, the owner's sorted set, each with its expiry) are
shaped exactly as the store writes them.  Other sessions belong to other
users, three each.

* MongoDB (SecantusDB): ``insert_many`` in batches.  SecantusDB inserts
  about 8 times faster without secondary indexes, so each stage drops the
  TTL and owner indexes, inserts, and rebuilds them with the store's own
  specifications (recorded from the collection after the store's first
  write).  The insert rate of the first stage sets how far the last stage
  can go within ``--budget`` seconds; a stage cut short says so.
* Redis: pipelines of ``SET ... PXAT``, ``HSET``/``PEXPIREAT`` of the
  record and ``ZADD``/``PEXPIREAT`` of the owner set.
* MemoryStore: the store's own ``write`` (it is in-process).

``python -m benchmarks.owners_scale STORE --sizes ... [--uri URI]`` prints
one JSON line; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask_sessionstore import Cookie, MemoryStore
from flask_sessionstore.cookie import utcnow
from flask_sessionstore.records import Record
from flask_sessionstore.stores.base import Store, Write

from .apps import DB_NAME

TARGET = "owner-of-a-handful"
HANDFUL = 5
USER_KEY = "_user_id"
BATCH = 10_000
QUERY_REPEATS = 30
REVOKE_REPEATS = 10


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _session(user: str) -> dict[str, Any]:
    return {
        "cookie": Cookie().to_dict(),
        USER_KEY: user,
        "name": "alice",
        "roles": ["user", "editor"],
        "n": 0,
    }


def _write(store: Store, sid: str, user: str) -> None:
    now = utcnow()
    record = Record(None, now, now, "127.0.0.1", "wrk/4.1.0 benchmark")
    store.write(sid, Write(_session(user), record=record, user_key=USER_KEY))


def _sid() -> str:
    return secrets.token_urlsafe(24)


def _median_ms(
    func: Callable[[], Any], repeats: int, before: Callable[[], Any] | None = None
) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        result = func()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)], result


def _measure(store: Store, total: int) -> dict:
    """Time sessions_of and revoke_user for the target user among ``total`` sessions."""
    handful = [_sid() for _ in range(HANDFUL)]

    def write_handful() -> None:
        for sid in handful:
            _write(store, sid, TARGET)

    write_handful()
    of_ms, of_p90, found = _median_ms(lambda: store.sessions_of(TARGET), QUERY_REPEATS)
    revoke_ms, revoke_p90, revoked = _median_ms(
        lambda: store.revoke_user(TARGET), REVOKE_REPEATS, write_handful
    )
    left = len(store.sessions_of(TARGET))
    return {
        "sessions": total + HANDFUL,
        "sessions_of_ms": of_ms,
        "sessions_of_p90_ms": of_p90,
        "found": len(found),
        "revoke_user_ms": revoke_ms,
        "revoke_user_p90_ms": revoke_p90,
        "revoked": revoked,
        "left_after_revoke": left,
    }


# -- MongoDB ----------------------------------------------------------------------------


def mongo(uri: str, sizes: list[int], budget: float) -> dict:
    from pymongo import IndexModel, MongoClient

    from flask_sessionstore import MongoStore

    client: MongoClient[Any] = MongoClient(uri)
    coll = client[DB_NAME]["owners_scale"]
    coll.drop()
    store = MongoStore(client=client, db_name=DB_NAME, collection_name="owners_scale")
    if type(store).sessions_of is Store.sessions_of:
        return {"skipped": "this MongoStore keeps no owner index (sessions_of not implemented)"}
    seed = _sid()
    _write(store, seed, "user-seed")  # the store creates its indexes on its first write
    template = coll.find_one({"_id": seed})
    assert template is not None
    coll.delete_one({"_id": seed})
    indexes = [
        IndexModel(
            list(info["key"]),
            name=name,
            **{k: v for k, v in info.items() if k not in ("key", "v", "ns")},
        )
        for name, info in coll.index_information().items()
        if name != "_id_"
    ]
    started = time.monotonic()
    results, count, rate, rebuild_per_doc = [], 0, None, None
    note = None
    for target in sizes:
        elapsed = time.monotonic() - started
        if rate is not None and rebuild_per_doc is not None:
            # What the rest of the budget allows: inserts plus one index rebuild at the end.
            per_doc = 1 / rate + rebuild_per_doc
            affordable = count + int(max(0.0, budget - elapsed) / per_doc)
            if affordable < target:
                allowed = max(count, affordable // BATCH * BATCH)
                note = (
                    f"{target:,d} sessions would take about "
                    f"{(target - count) * per_doc:.0f} s more at {rate:,.0f} inserts/s plus the "
                    f"index rebuild; the budget of {budget:.0f} s allowed {allowed:,d}"
                )
                log(f"  mongo: {note}")
                target = allowed
                if target <= results[-1]["sessions"] - HANDFUL:
                    break
        coll.drop_indexes()
        begun, inserted = time.monotonic(), 0
        while count < target:
            batch = min(BATCH, target - count)
            docs = []
            for i in range(count, count + batch):
                doc = dict(template)
                doc["_id"] = _sid()
                doc["rev"] = secrets.token_hex(8)
                doc["user"] = f"user{i // 3}"
                docs.append(doc)
            coll.insert_many(docs, ordered=False)
            count += batch
            inserted += batch
            if inserted % (BATCH * 10) == 0 or count == target:
                spent = time.monotonic() - begun
                log(f"  mongo: {count:>9,d} sessions ({inserted / spent:,.0f} inserts/s)")
        insert_s = time.monotonic() - begun
        if inserted:
            rate = inserted / insert_s
        begun = time.monotonic()
        coll.create_indexes(indexes)
        rebuild_s = time.monotonic() - begun
        rebuild_per_doc = rebuild_s / max(count, 1)
        result = _measure(store, count)
        result.update(insert_s=insert_s, rate=rate, index_rebuild_s=rebuild_s)
        plan = coll.find({"user": TARGET, "expires": {"$gt": utcnow()}}).explain()
        result["plan"] = _plan(plan)
        log(
            f"  mongo: {count:>9,d} sessions: sessions_of {result['sessions_of_ms']:.2f} ms, "
            f"revoke_user {result['revoke_user_ms']:.2f} ms ({result['plan']})"
        )
        results.append(result)
    total_s = time.monotonic() - started
    coll.drop()
    client.close()
    return {"results": results, "note": note, "seconds": total_s, "budget": budget}


def _plan(explain: dict) -> str:
    stage = explain.get("queryPlanner", {}).get("winningPlan", {})
    names = []
    while isinstance(stage, dict) and stage:
        names.append(
            stage.get("stage", "?") + (f" {stage['indexName']}" if "indexName" in stage else "")
        )
        stage = stage.get("inputStage")
    return " <- ".join(names) or "unknown"


# -- Redis ----------------------------------------------------------------------------


def redis_store(url: str, sizes: list[int]) -> dict:
    import redis

    from flask_sessionstore import RedisStore

    client = redis.Redis.from_url(url)
    client.flushdb()
    store = RedisStore(client)
    seed = _sid()
    _write(store, seed, "user-seed")
    keys = store.keys
    value = client.get(keys.session(seed))
    record = client.hgetall(keys.record(seed))
    at = client.pexpiretime(keys.session(seed))
    score = client.zscore(keys.owner("user-seed"), seed)
    client.delete(keys.session(seed), keys.record(seed), keys.owner("user-seed"))
    started = time.monotonic()
    results, count = [], 0
    for target in sizes:
        begun = time.monotonic()
        inserted = 0
        while count < target:
            batch = min(BATCH, target - count)
            pipe = client.pipeline(transaction=False)
            for i in range(count, count + batch):
                sid, user = _sid(), f"user{i // 3}"
                pipe.set(keys.session(sid), value, pxat=at)
                pipe.hset(keys.record(sid), mapping={**record, b"user": user})
                pipe.pexpireat(keys.record(sid), at)
                pipe.zadd(keys.owner(user), {sid: score})
                pipe.pexpireat(keys.owner(user), at)
            pipe.execute()
            count += batch
            inserted += batch
            if inserted % (BATCH * 20) == 0 or count == target:
                spent = time.monotonic() - begun
                log(f"  redis: {count:>9,d} sessions ({inserted / spent:,.0f} sessions/s)")
        insert_s = time.monotonic() - begun
        result = _measure(store, count)
        result.update(insert_s=insert_s, keys=client.dbsize())
        log(
            f"  redis: {count:>9,d} sessions: sessions_of {result['sessions_of_ms']:.2f} ms, "
            f"revoke_user {result['revoke_user_ms']:.2f} ms"
        )
        results.append(result)
    total_s = time.monotonic() - started
    client.flushdb()
    client.close()
    return {"results": results, "seconds": total_s}


# -- MemoryStore --------------------------------------------------------------------------


def memory(sizes: list[int]) -> dict:
    import gc

    store = MemoryStore(ttl=timedelta(days=14))
    started = time.monotonic()
    results, count = [], 0
    for target in sizes:
        begun = time.monotonic()
        gc.disable()  # the cyclic GC would rescan millions of objects while filling
        while count < target:
            _write(store, _sid(), f"user{count // 3}")
            count += 1
        gc.enable()
        insert_s = time.monotonic() - begun
        result = _measure(store, count)
        result["insert_s"] = insert_s
        log(
            f"  memory: {count:>9,d} sessions: sessions_of {result['sessions_of_ms']:.3f} ms, "
            f"revoke_user {result['revoke_user_ms']:.3f} ms"
        )
        results.append(result)
    return {"results": results, "seconds": time.monotonic() - started}


def main() -> None:
    from .codebase import loaded_code

    parser = argparse.ArgumentParser()
    parser.add_argument("store", choices=["mongo", "redis", "memory"])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--uri", help="mongodb:// or redis:// URL")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds (mongo)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if args.store == "mongo":
        result = mongo(args.uri, sizes, args.budget)
    elif args.store == "redis":
        result = redis_store(args.uri, sizes)
    else:
        result = memory(sizes)
    result["code"] = loaded_code()
    sys.stdout.write(json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
