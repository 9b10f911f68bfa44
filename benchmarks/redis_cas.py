"""``python -m benchmarks.redis_cas``: RedisStore's compare-and-set, Lua script vs WATCH/MULTI.

RedisStore writes a loaded session with one ``EVALSHA`` (the script compares
``redis.sha1hex(GET key)`` with the version the load read and writes value,
record and owner set atomically).  The alternative is optimistic locking
with ``WATCH`` / ``GET`` / ``MULTI`` ... ``EXEC``, retried on a
``WatchError``.  Both are run here on a redis-server of their own, with
``THREADS`` threads each doing ``WRITES`` load-then-write cycles on *one*
session (each thread its own key, so every write must survive), and with a
single thread (no contention).  Reported per write: commands sent (counted on
the connection), round trips, retries, and latency (median, p99).

Never part of ``make test``; ``make bench`` runs it (``--json``) and puts its
table in ``RESULTS.md``; the figures of an earlier run are in docs/redis.rst.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from flask_sessionstore import Cookie, RedisStore
from flask_sessionstore.records import Record
from flask_sessionstore.stores.base import Loaded, Write, stored_expiry
from flask_sessionstore.stores.redis_format import expire_at, record_fields

THREADS = 8
WRITES = 200


class Counting(redis.Connection):
    """Counts commands and round trips (a pipeline's batch is one)."""

    commands = 0
    trips = 0
    lock = threading.Lock()

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        with Counting.lock:
            Counting.commands += 1
            Counting.trips += 1
        super().send_command(*args, **kwargs)

    def pack_commands(self, commands: Any) -> Any:
        commands = list(commands)  # a pipeline (or MULTI ... EXEC): one trip
        with Counting.lock:
            Counting.commands += len(commands)
            Counting.trips += 1
        return super().pack_commands(commands)


class WatchStore(RedisStore):
    """RedisStore with its Lua compare-and-set replaced by WATCH/MULTI/EXEC."""

    retries = 0

    def write(self, sid: str, write: Write) -> Loaded | None:
        if write.base is None:
            return super().write(sid, write)  # a new session: no compare
        client = self.client()
        key, rec = self.keys.session(sid), self.keys.record(sid)
        session = write.session
        expected = write.base.version if write.base is not None else None
        with client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    current = pipe.get(key)
                    if current is None:
                        return None
                    if hashlib.sha1(current).hexdigest() != expected:
                        session = write.merged_onto(self._values.decode(sid, current) or {})
                        expected = hashlib.sha1(current).hexdigest()
                    raw = self._values.encode(sid, session, self.max_session_size)
                    now = write.record.last_seen_at
                    assert now is not None
                    at = expire_at(stored_expiry(session), now, self.ttl)
                    record = write.final_record(session)
                    pipe.multi()
                    pipe.set(key, raw, pxat=at)
                    pipe.delete(rec)
                    pairs = record_fields(record)
                    pipe.hset(rec, mapping=dict(zip(pairs[::2], pairs[1::2], strict=True)))
                    pipe.pexpireat(rec, at)
                    pipe.execute()
                    return Loaded(session, hashlib.sha1(raw).hexdigest(), record, None)
                except redis.WatchError:
                    WatchStore.retries += 1


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    lost: int = 0


def run(store: RedisStore, threads: int) -> tuple[Run, int, int]:
    sid = f"bench-{threads}-{type(store).__name__}"
    start = {"cookie": Cookie(max_age=3600).to_dict()}
    store.write(sid, Write(start, record=Record(created_at=_now(), last_seen_at=_now())))
    result, lock = Run(), threading.Lock()
    Counting.commands = Counting.trips = 0

    def worker(n: int) -> None:
        for i in range(WRITES):
            loaded = store.load(sid)
            assert loaded is not None
            session = {**loaded.session, f"k{n}": i + 1}
            began = time.perf_counter()
            store.write(
                sid,
                Write(
                    session,
                    base=loaded,
                    changed=(f"k{n}",),
                    record=Record(created_at=_now(), last_seen_at=_now()),
                ),
            )
            with lock:
                result.latencies.append(time.perf_counter() - began)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    final = store.load(sid)
    assert final is not None
    result.lost = sum(WRITES - final.session.get(f"k{n}", 0) for n in range(threads))
    return result, Counting.commands, Counting.trips


def _now() -> Any:
    from flask_sessionstore.cookie import utcnow

    return utcnow()


def measure(url: str | None = None) -> list[dict]:
    """Both variants, 1 and :data:`THREADS` threads, on ``url`` or a redis-server of our own."""
    if url is None:
        from .servers import redis_server

        with redis_server() as own:
            return measure(own)
    pool = redis.ConnectionPool.from_url(url, connection_class=Counting, max_connections=64)
    client = redis.Redis(connection_pool=pool)
    rows = []
    try:
        for threads in (1, THREADS):
            for store in (RedisStore(client, prefix="lua:"), WatchStore(client, prefix="watch:")):
                WatchStore.retries = 0
                result, commands, trips = run(store, threads)
                writes = threads * WRITES
                lat = sorted(result.latencies)
                rows.append(
                    {
                        "variant": "Lua" if type(store) is RedisStore else "WATCH/MULTI",
                        "threads": threads,
                        # each cycle is a load (1 command, 1 trip) and a write
                        "commands_per_write": (commands - writes) / writes,
                        "trips_per_write": (trips - writes) / writes,
                        "retries": WatchStore.retries if type(store) is WatchStore else None,
                        "median_ms": statistics.median(lat) * 1000,
                        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
                        "lost": result.lost,
                    }
                )
    finally:
        pool.disconnect()
    return rows


def main() -> None:
    rows = measure()
    if "--json" in sys.argv[1:]:
        print(json.dumps({"threads": THREADS, "writes": WRITES, "rows": rows}))
        return
    print(f"{'variant':<12} {'threads':>7} {'cmds/write':>10} {'trips/write':>11} "
          f"{'retries':>8} {'median ms':>9} {'p99 ms':>7} {'lost':>5}")  # fmt: skip
    for row in rows:
        retries = "-" if row["retries"] is None else row["retries"]
        print(
            f"{row['variant']:<12} {row['threads']:>7} {row['commands_per_write']:>10.2f} "
            f"{row['trips_per_write']:>11.2f} {retries:>8} {row['median_ms']:>9.3f} "
            f"{row['p99_ms']:>7.3f} {row['lost']:>5}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
