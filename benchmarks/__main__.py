"""``python -m benchmarks [--quick] [--only SECTION ...]``: run the peer benchmarks.

Writes ``RESULTS.md``, ``results.png`` and ``profile.txt`` into ``benchmarks/``
(into ``benchmarks/.work/`` for ``--quick``, so a smoke run never replaces the
published figures) and prints the tables.  See issue 5.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import inprocess, load, memory_scale, profile, report, roundtrips
from .apps import mongo_store_available
from .servers import WORK, secantus

HERE = Path(__file__).resolve().parent
SECTIONS = ["inprocess", "roundtrips", "load", "scale", "profile"]

FULL = {
    "rounds": 25,
    "n": 1000,
    "warmup": 300,
    "roundtrip_requests": 20,
    "load_seconds": 5.0,
    "load_warmup": 1.0,
    "load_passes": 2,
    "sizes": [10**4, 10**5, 10**6],
    "profile_n": 5000,
}
QUICK = {
    "rounds": 3,
    "n": 200,
    "warmup": 50,
    "roundtrip_requests": 5,
    "load_seconds": 1.0,
    "load_warmup": 0.0,
    "load_passes": 1,
    "sizes": [10**4],
    "profile_n": 500,
}


def log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (≈1 min)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--out", type=Path, help="output folder (default benchmarks/)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    sections = args.only or SECTIONS
    out = args.out or (WORK if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    WORK.mkdir(exist_ok=True)

    started = time.monotonic()
    mongo_reason = mongo_store_available()
    results: dict = {
        "command": "python -m benchmarks" + (" --quick" if args.quick else ""),
        "date": report.now(),
        "quick": args.quick,
        "machine": report.machine(),
        "mongo_skipped": mongo_reason,
        "notes": [],
    }
    if mongo_reason:
        log(f"our MongoStore is skipped: {mongo_reason}")
    setups = inprocess.default_setups(mongo_reason)

    if "inprocess" in sections:
        log("1. in-process cost per request")
        results["inprocess"] = inprocess.run(
            setups, config["rounds"], config["n"], config["warmup"], log
        )
    if "roundtrips" in sections or "load" in sections:
        with secantus() as uri:
            if "roundtrips" in sections:
                log("2. database round trips (SecantusDB)")
                variants = ["fs-mongo"]
                if not mongo_reason:
                    variants += ["ours-mongo", "ours-mongo-lazy"]
                results["roundtrips"] = roundtrips.run(uri, variants, config["roundtrip_requests"])
            if "load" in sections:
                log("3. load test (gunicorn + wrk)")
                results["load"] = load.run(
                    setups,
                    uri,
                    config["load_seconds"],
                    config["load_warmup"],
                    config["load_passes"],
                    log,
                )
    if "scale" in sections:
        log("4. MemoryStore at scale")
        results["scale"] = memory_scale.run(config["sizes"], log)
    if "profile" in sections:
        log("5. profile of our hot path")
        results["profile"] = profile.run(config["profile_n"], out / "profile.txt")

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
