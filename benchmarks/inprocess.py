"""In-process cost per request, Werkzeug test client, cookie jar kept.

Each code ("after": this tree, "before": v1, see :mod:`benchmarks.codebase`)
runs in a worker process of its own that builds one app and its clients per
setup.  The parent interleaves blocks of requests across every (code, setup)
round robin, in a new random order each round, so a slow patch of the
machine hits all of them alike and "before" and "after" are measured in the
same run, side by side.  Each figure is the median over the rounds; each
overhead is the median of the per-round differences from "no session"
measured *in the same worker* and round; each ratio (before/after, records
on/off) is the median of the per-round ratios.

``python -m benchmarks.inprocess --worker SETUPS`` is the worker: it reads
one JSON command per line on stdin and answers one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from .codebase import ROOT, env_for

SCENARIOS = {
    "new": ("new visitor, untouched", "/"),
    "read": ("returning visitor, reading", "/read"),
    "write": ("returning visitor, modifying", "/write"),
}


def unit_id(code: str, key: str) -> str:
    """How results name a setup run on a code: ``ours-memory`` or ``ours-memory@before``."""
    return key if code == "after" else f"{key}@{code}"


# -- the worker -------------------------------------------------------------------


def _clients(key: str, redis_url: str | None) -> dict[str, Callable[[], Any]]:
    from .apps import build_app

    app = build_app(key, redis_url=redis_url)
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


def worker(setups: list[str], redis_url: str | None) -> None:
    from .codebase import loaded_code

    clients = {key: _clients(key, redis_url) for key in setups}
    out = sys.stdout
    out.write(json.dumps({"ready": True, "code": loaded_code()}) + "\n")
    out.flush()
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "block":
            answer: dict = {
                "us": _block(clients[command["key"]][command["scenario"]], command["n"])
            }
        elif command["op"] == "count":
            answer = {"count": int(clients[command["key"]]["count"]().get_data(as_text=True))}
        else:
            break
        out.write(json.dumps(answer) + "\n")
        out.flush()


class Worker:
    """The parent's handle on one worker process."""

    def __init__(self, code: str, setups: list[str], redis_url: str | None) -> None:
        args = [sys.executable, "-m", "benchmarks.inprocess", "--worker", ",".join(setups)]
        if redis_url:
            args += ["--redis-url", redis_url]
        self.code = code
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env_for(code),
        )
        hello = self._read()
        if hello.get("code") != code:
            raise RuntimeError(f"the {code} worker imported the {hello.get('code')} code")

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.code} in-process worker died")
        answer: dict = json.loads(line)
        return answer

    def ask(self, **command: Any) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            self.ask(op="quit")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


# -- the parent -------------------------------------------------------------------


def run(
    plan: dict[str, list[str]],
    rounds: int,
    n: int,
    warmup: int,
    log: Callable[[str], None],
    redis_url: str | None = None,
) -> dict:
    """``plan`` maps each code to its setups; every setup list must include "none"."""
    workers = {code: Worker(code, setups, redis_url) for code, setups in plan.items()}
    try:
        units = [(code, key) for code, setups in plan.items() for key in setups]
        for code, key in units:  # warm caches, imports and the store
            for scenario in SCENARIOS:
                workers[code].ask(op="block", key=key, scenario=scenario, n=warmup)

        ids = [unit_id(code, key) for code, key in units]
        samples: dict[str, dict[str, list[float]]] = {s: {u: [] for u in ids} for s in SCENARIOS}
        rng = random.Random(5)
        for r in range(rounds):
            started = time.monotonic()
            for scenario in SCENARIOS:
                order = units[:]
                rng.shuffle(order)
                for code, key in order:
                    answer = workers[code].ask(op="block", key=key, scenario=scenario, n=n)
                    samples[scenario][unit_id(code, key)].append(answer["us"])
            log(f"  round {r + 1}/{rounds} in {time.monotonic() - started:.1f} s")

        # The counter must have seen every write: warm-up + rounds * n, nothing lost.
        writes = warmup + rounds * n
        lost = {}
        for code, key in units:
            if key != "none":
                count = workers[code].ask(op="count", key=key)["count"]
                if count != writes:
                    lost[unit_id(code, key)] = writes - count
    finally:
        for w in workers.values():
            w.close()

    median = {s: {u: statistics.median(v) for u, v in by.items()} for s, by in samples.items()}
    overhead = {
        s: {
            unit_id(code, key): statistics.median(
                a - b
                for a, b in zip(by[unit_id(code, key)], by[unit_id(code, "none")], strict=True)
            )
            for code, key in units
        }
        for s, by in samples.items()
    }
    return {
        "rounds": rounds,
        "n": n,
        "warmup": warmup,
        "plan": plan,
        "units": ids,
        "samples": samples,
        "median": median,
        "overhead": overhead,
        "writes_checked": writes,
        "writes_lost": lost,
    }


def ratio(res: dict, scenario: str, a: str, b: str) -> float | None:
    """Median over rounds of a's µs/request divided by b's (both measured each round)."""
    by = res["samples"][scenario]
    if a not in by or b not in by:
        return None
    return statistics.median(x / y for x, y in zip(by[a], by[b], strict=True))


def corrected_ratio(res: dict, scenario: str, key: str, code: str = "before") -> float | None:
    """after/before of ``key``, divided by after/before of "no session", median over rounds.

    The two codes run in different worker processes, which differ by a few
    per cent even with no session at all (heap size, memory layout): dividing
    by the no-session ratio of the same round leaves the session layer's part.
    """
    by = res["samples"][scenario]
    other, base, other_base = unit_id(code, key), "none", unit_id(code, "none")
    if any(u not in by for u in (key, other, base, other_base)):
        return None
    return statistics.median(
        (a / b) / (c / d)
        for a, b, c, d in zip(by[key], by[other], by[base], by[other_base], strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", required=True, help="comma-separated setup keys")
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    worker(args.worker.split(","), args.redis_url)


if __name__ == "__main__":
    main()
