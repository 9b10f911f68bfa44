"""MemoryStore at scale: memory per session, get/set latency, reclaim time.

Each size runs in a fresh child process, so the RSS delta measures what the
sessions cost and nothing left over from a previous size.  The store's clock
(``time.time`` as seen by ``flask_sessionstore.stores.memory``) is replaced
by a settable one, so "an hour later" costs nothing to wait for: the N
sessions expire together.  One ``get()`` then reclaims a bounded batch
(``RECLAIM_BATCH``), so no request stalls, and ``prune()`` reclaims the rest.
"""

from __future__ import annotations

import gc
import json
import random
import subprocess
import sys
import time
import types
from datetime import datetime, timedelta, timezone

from flask_sessionstore import MemoryStore
from flask_sessionstore.cookie import format_iso
from flask_sessionstore.stores import memory

SAMPLE = 20000


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _session(expires: datetime, i: int) -> dict:
    return {
        "cookie": {
            "originalMaxAge": 3600000,
            "expires": format_iso(expires),
            "httpOnly": True,
            "path": "/",
        },
        "user_id": i,
        "name": "alice",
        "roles": ["user", "editor"],
        "n": 0,
    }


def measure(n: int) -> dict:
    """Runs in the child: fill a store with ``n`` sessions and time it."""
    now = [time.time()]
    memory.time = types.SimpleNamespace(time=lambda: now[0])  # type: ignore[attr-defined]
    store = MemoryStore()
    expires = datetime.fromtimestamp(now[0], timezone.utc) + timedelta(hours=1)
    sids = [f"{i:032d}" for i in range(n)]
    template = _session(expires, 0)
    gc.collect()
    gc.disable()  # the cyclic GC would otherwise rescan millions of objects while filling
    before = _rss()
    started = time.perf_counter()
    for i, sid in enumerate(sids):
        template["user_id"] = i
        store.set(sid, template)
    fill = time.perf_counter() - started
    gc.enable()
    gc.collect()
    per_session = (_rss() - before) / n

    rng = random.Random(1)
    picks = [rng.choice(sids) for _ in range(SAMPLE)]
    started = time.perf_counter()
    for sid in picks:
        store.get(sid)
    get_us = (time.perf_counter() - started) / SAMPLE * 1e6
    started = time.perf_counter()
    for sid in picks:
        store.set(sid, template)
    set_us = (time.perf_counter() - started) / SAMPLE * 1e6
    fresh = [f"new{i:029d}" for i in range(SAMPLE)]
    started = time.perf_counter()
    for sid in fresh:
        store.set(sid, template)
    insert_us = (time.perf_counter() - started) / SAMPLE * 1e6
    live = store.length()

    now[0] += 2 * 3600  # every session is now expired
    before = len(store._entries)
    started = time.perf_counter()
    found = store.get(sids[0])
    get_after_expiry = time.perf_counter() - started
    reclaimed_by_get = before - len(store._entries)
    started = time.perf_counter()
    pruned = store.prune()
    reclaim = time.perf_counter() - started
    left = len(store._entries)
    return {
        "n": n,
        "fill_s": fill,
        "bytes_per_session": per_session,
        "get_us": get_us,
        "set_us": set_us,
        "insert_us": insert_us,
        "live_before_expiry": live,
        "get_after_expiry_ms": get_after_expiry * 1000,
        "reclaimed_by_get": reclaimed_by_get,
        "reclaim_s": reclaim,
        "pruned": pruned,
        "reclaim_us_per_session": reclaim / max(pruned, 1) * 1e6,
        "left_after_reclaim": left,
        "expired_get_returned": found is not None,
    }


def run(sizes: list[int], log) -> dict:  # type: ignore[no-untyped-def]
    results = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.memory_scale", str(n)],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        log(
            f"  {n:>9,d} sessions: {result['bytes_per_session']:6.0f} B/session, "
            f"get {result['get_us']:5.1f} µs, set {result['set_us']:5.1f} µs, "
            f"get after mass expiry {result['get_after_expiry_ms']:6.1f} ms, "
            f"prune {result['reclaim_s'] * 1000:8.1f} ms"
        )
        results.append(result)
    return {"sample": SAMPLE, "results": results}


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
