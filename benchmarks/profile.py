"""Profile of our hot path: returning visitor modifying the session, MemoryStore.

Two views are saved in ``benchmarks/profile.txt``: pyinstrument's call tree
(statistical, low overhead, shows where the request's time goes) and a
cProfile table of flask_sessionstore's own functions (deterministic, per
request), which is the list to optimise from.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path

from .apps import build_app

HERE = Path(__file__).resolve().parent
PACKAGE = "flask_sessionstore"


def _client():  # type: ignore[no-untyped-def]
    app = build_app("ours-memory")
    client = app.test_client()
    client.get("/login")
    for _ in range(300):
        client.get("/write")
    return client


def run(n: int, path: Path = HERE / "profile.txt") -> dict:
    from pyinstrument import Profiler

    client = _client()
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(n):
        client.get("/write")
    profiler.stop()
    tree = profiler.output_text(unicode=True, color=False, show_all=False)

    client = _client()
    cprofile = cProfile.Profile()
    cprofile.enable()
    for _ in range(n):
        client.get("/write")
    cprofile.disable()
    stats = pstats.Stats(cprofile)
    ours = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if f"/{PACKAGE}/" in filename:
            module = filename.split(f"/{PACKAGE}/", 1)[1]
            ours.append(
                {
                    "function": f"{module}:{line}({name})",
                    "calls_per_request": calls / n,
                    "self_us": tottime / n * 1e6,
                    "cumulative_us": cumtime / n * 1e6,
                }
            )
    ours.sort(key=lambda row: row["cumulative_us"], reverse=True)
    total = sum(v[2] for v in stats.stats.values()) / n * 1e6  # type: ignore[attr-defined]

    out = io.StringIO()
    out.write(
        f"Returning visitor modifying the session, ours with MemoryStore, {n} requests "
        "through Flask's test client.\n\n"
    )
    out.write("== flask_sessionstore functions (cProfile; µs per request, profiler overhead")
    out.write(f" included; whole request {total:.0f} µs) ==\n\n")
    out.write(f"{'cumulative':>10} {'self':>8} {'calls':>6}  function\n")
    for row in ours[:30]:
        out.write(
            f"{row['cumulative_us']:10.1f} {row['self_us']:8.1f} "
            f"{row['calls_per_request']:6.1f}  {row['function']}\n"
        )
    out.write("\n== pyinstrument call tree (whole request) ==\n\n")
    out.write(tree)
    path.write_text(out.getvalue())
    return {"n": n, "request_us_under_cprofile": total, "ours": ours[:15], "file": path.name}
