"""In-process cost per request, Werkzeug test client, cookie jar kept.

Every setup gets its own app and clients.  The setups are interleaved round
robin (in a new random order each round), so that a slow patch of the
machine hits all of them alike; each figure is the median over the rounds,
and each overhead is the median of the per-round differences from "no
session" measured in the same round.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from .apps import SETUPS, build_app

SCENARIOS = {
    "new": ("new visitor, untouched", "/"),
    "read": ("returning visitor, reading", "/read"),
    "write": ("returning visitor, modifying", "/write"),
}


def _clients(key: str) -> dict[str, Callable[[], Any]]:
    app = build_app(key)
    fresh = app.test_client(use_cookies=False)
    reader = app.test_client()
    writer = app.test_client()
    reader.get("/login")
    writer.get("/login")
    return {
        "new": lambda: fresh.get("/"),
        "read": lambda: reader.get("/read"),
        "write": lambda: writer.get("/write"),
        "count": lambda: writer.get("/count"),
    }


def _block(request: Callable[[], Any], n: int) -> float:
    gc.collect()  # start every block with the same heap, so no block inherits a collection
    start = time.perf_counter()
    for _ in range(n):
        request()
    return (time.perf_counter() - start) / n * 1e6


def run(setups: list[str], rounds: int, n: int, warmup: int, log: Callable[[str], None]) -> dict:
    clients = {key: _clients(key) for key in setups}
    for key in setups:  # warm caches, imports and the store
        for scenario in SCENARIOS:
            _block(clients[key][scenario], warmup)

    samples: dict[str, dict[str, list[float]]] = {s: {k: [] for k in setups} for s in SCENARIOS}
    rng = random.Random(5)
    for r in range(rounds):
        started = time.monotonic()
        for scenario in SCENARIOS:
            order = setups[:]
            rng.shuffle(order)
            for key in order:
                samples[scenario][key].append(_block(clients[key][scenario], n))
        log(f"  round {r + 1}/{rounds} in {time.monotonic() - started:.1f} s")

    # The counter must have seen every write: warm-up + rounds * n, plus nothing lost.
    writes = warmup + rounds * n
    counts = {}
    for key in setups:
        if key != "none":
            counts[key] = int(clients[key]["count"]().get_data(as_text=True))
    lost = {key: writes - count for key, count in counts.items() if count != writes}

    median = {s: {k: statistics.median(v) for k, v in by.items()} for s, by in samples.items()}
    overhead = {
        s: {
            k: statistics.median(a - b for a, b in zip(by[k], by["none"], strict=True))
            if "none" in by
            else None
            for k in setups
        }
        for s, by in samples.items()
    }
    return {
        "rounds": rounds,
        "n": n,
        "warmup": warmup,
        "setups": setups,
        "samples": samples,
        "median": median,
        "overhead": overhead,
        "writes_checked": writes,
        "writes_lost": lost,
    }


def default_setups(mongo_reason: str | None) -> list[str]:
    return [s.key for s in SETUPS if not (s.key == "ours-mongo" and mongo_reason)]
