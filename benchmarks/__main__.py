"""``python -m benchmarks [--quick] [--only SECTION ...]``: run the peer benchmarks.

Writes ``RESULTS.md``, ``results.png``, ``profile.txt`` and
``profile-before.txt`` into ``benchmarks/`` (into ``benchmarks/.work/`` for
``--quick``, so a smoke run never replaces the published figures) and prints
the tables.  "Before" (the v1 code, :data:`benchmarks.codebase.BEFORE`) runs
in child processes of the same run, beside "after" (this tree).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from . import inprocess, load, memory_scale, report
from .apps import BEFORE_SETUPS, SETUPS, mongo_store_available
from .codebase import prepare_before, run_child
from .load import LoadRun
from .servers import WORK, redis_binary, redis_server, secantus

HERE = Path(__file__).resolve().parent
SECTIONS = ["inprocess", "roundtrips", "load", "scale", "owners", "profile", "redis_cas"]

FULL = {
    "rounds": 20,
    "n": 600,
    "warmup": 200,
    "rt_sizes": [1024, 1024**2, 8 * 1024**2],
    "rt_requests": [20, 5, 2],
    "load_seconds": 5.0,
    "load_warmup": 1.0,
    "load_passes": 2,
    "sizes": [10**4, 10**5, 10**6],
    "owner_sizes": [10**3, 10**5, 10**6],
    "owner_budget": 210.0,
    "profile_n": 3000,
}
QUICK = {
    "rounds": 2,
    "n": 100,
    "warmup": 30,
    "rt_sizes": [1024, 1024**2],
    "rt_requests": [3, 1],
    "load_seconds": 1.0,
    "load_warmup": 0.0,
    "load_passes": 1,
    "sizes": [10**4],
    "owner_sizes": [10**3, 10**4],
    "owner_budget": 20.0,
    "profile_n": 300,
}

#: The load runs: setup, code, gunicorn worker class.
LOAD_RUNS = [
    LoadRun("none"),
    LoadRun("cookie"),
    LoadRun("fs-simplecache"),
    LoadRun("ours-memory"),
    LoadRun("ours-memory", "before"),
    LoadRun("fs-mongo"),
    LoadRun("ours-mongo"),
    LoadRun("ours-mongo", "before"),
    LoadRun("fs-redis"),
    LoadRun("ours-redis"),
    LoadRun("fs-mongo", worker="gevent"),
    LoadRun("ours-mongo", worker="gevent"),
    LoadRun("ours-mongo", "before", "gevent"),
]


def log(message: str) -> None:
    print(message, flush=True)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (2 cores: above 2 means waiting for a CPU)."""
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (≈2 min)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--out", type=Path, help="output folder (default benchmarks/)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    sections = args.only or SECTIONS
    out = args.out or (WORK if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(exist_ok=True)

    started = time.monotonic()
    prepare_before()
    mongo_reason = mongo_store_available()
    redis_reason = None if redis_binary() else "redis-server is not installed (make redis)"
    results: dict = {
        "command": "python -m benchmarks" + (" --quick" if args.quick else ""),
        "date": report.now(),
        "quick": args.quick,
        "machine": report.machine(),
        "load_at_start": loadavg(),
        "mongo_skipped": mongo_reason,
        "redis_skipped": redis_reason,
        "notes": [],
        "load_by_section": {},
    }
    log(f"load average at start: {results['load_at_start']}")
    for reason in (mongo_reason, redis_reason):
        if reason:
            log(f"skipped: {reason}")

    def keep(key: str) -> bool:
        setup = next(s for s in SETUPS if s.key == key)
        return not ((setup.mongo and mongo_reason) or (setup.redis and redis_reason))

    with secantus() as uri, redis_server() if not redis_reason else nullcontext() as redis_url:
        if "inprocess" in sections:
            log("1. in-process cost per request (after and before interleaved)")
            results["load_by_section"]["inprocess"] = loadavg().split()[0]
            plan = {
                "after": [s.key for s in SETUPS if keep(s.key)],
                "before": [k for k in BEFORE_SETUPS if keep(k)],
            }
            results["inprocess"] = inprocess.run(
                plan, config["rounds"], config["n"], config["warmup"], log, redis_url
            )
        if "roundtrips" in sections:
            log("2. round trips, commands and bytes per request")
            results["load_by_section"]["roundtrips"] = loadavg().split()[0]
            sizes = ",".join(str(s) for s in config["rt_sizes"])
            counts = ",".join(str(c) for c in config["rt_requests"])
            common = ["--sizes", sizes, "--requests", counts, "--mongo-uri", uri]
            mongo = "fs-mongo,ours-mongo,ours-mongo-norec,ours-mongo-lazy"
            after_args = [*common, "--mongo", mongo]
            if redis_url:
                after_args += ["--redis-url", redis_url]
                after_args += ["--redis", "fs-redis,ours-redis,ours-redis-norec"]
            results["roundtrips"] = {
                "after": run_child("after", "roundtrips", after_args),
                "before": run_child("before", "roundtrips", [*common, "--mongo", "ours-mongo"]),
            }
        if "load" in sections:
            log("3. load test (gunicorn + wrk)")
            results["load_by_section"]["load"] = loadavg().split()[0]
            runs = [r for r in LOAD_RUNS if keep(r.key)]
            results["load"] = load.run(
                runs,
                uri,
                redis_url,
                config["load_seconds"],
                config["load_warmup"],
                config["load_passes"],
                log,
            )
        if "redis_cas" in sections and redis_url:
            log("6. RedisStore compare-and-set: Lua vs WATCH/MULTI")
            results["load_by_section"]["redis_cas"] = loadavg().split()[0]
            from . import redis_cas

            results["redis_cas"] = {
                "threads": redis_cas.THREADS,
                "writes": redis_cas.WRITES,
                "rows": redis_cas.measure(redis_url),
            }
    if "owners" in sections:
        log("5. sessions_of / revoke_user as the other sessions grow")
        results["load_by_section"]["owners"] = loadavg().split()[0]
        sizes = ",".join(str(s) for s in config["owner_sizes"])
        owners: dict = {}
        with secantus(ttl_sweep_seconds=3600) as uri:
            owners["mongo"] = run_child(
                "after",
                "owners_scale",
                ["mongo", "--uri", uri, "--sizes", sizes, "--budget", str(config["owner_budget"])],
            )
        if not redis_reason:
            with redis_server() as redis_url:
                owners["redis"] = run_child(
                    "after", "owners_scale", ["redis", "--uri", redis_url, "--sizes", sizes]
                )
        owners["memory"] = run_child("after", "owners_scale", ["memory", "--sizes", sizes])
        results["owners"] = owners
    if "scale" in sections:
        log("4. MemoryStore at scale")
        results["load_by_section"]["scale"] = loadavg().split()[0]
        results["scale"] = memory_scale.run(config["sizes"], log)
    if "profile" in sections:
        log("7. profile of our hot path (after, then before)")
        results["load_by_section"]["profile"] = loadavg().split()[0]
        results["profile"] = {
            "after": run_child(
                "after", "profile", [str(config["profile_n"]), str(out / "profile.txt")]
            ),
            "before": run_child(
                "before", "profile", [str(config["profile_n"]), str(out / "profile-before.txt")]
            ),
        }

    results["load_at_end"] = loadavg()
    results["elapsed_s"] = time.monotonic() - started
    results["targets"] = report.targets(results)
    (WORK / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (out / "RESULTS.md").write_text(report.markdown(results))
    report.chart(results, out / "results.png")
    log("")
    log(report.console(results))
    log(f"\nwrote {out / 'RESULTS.md'} and {out / 'results.png'} in {results['elapsed_s']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
