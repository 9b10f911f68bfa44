"""Turn the measurements into RESULTS.md, the console summary and the chart.

The tables are :mod:`benchmarks.tables`' and the verdicts :mod:`benchmarks.verdicts`'."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from . import tables as t
from .codebase import BEFORE
from .inprocess import SCENARIOS
from .verdicts import targets as targets
from .verdicts import verdict_text

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "Flask",
    "Werkzeug",
    "itsdangerous",
    "Flask-Session",
    "cachelib",
    "msgspec",
    "pymongo",
    "mongomock",
    "SecantusDB",
    "gunicorn",
    "pyinstrument",
    "redis",
    "gevent",
]


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            memory = f"{int(f.readline().split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "unknown"
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        wrk = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        versions["wrk"] = (wrk.stdout or wrk.stderr).split("\n", 1)[0].split(" [")[0]
    except OSError:
        versions["wrk"] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "flask_sessionstore"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        if commit and dirty:
            commit += " (plus uncommitted changes in flask_sessionstore/)"
    except OSError:
        commit = ""
    return {
        "commit": commit or "unknown",
        "before": _before_commit(),
        "MongoStore on this tree": _mongo_store_kind(),
        "os": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        **versions,
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _ratio(ours: float | None, other: float | None) -> float | None:
    if ours is None or other is None or other <= 0:
        return None
    return ours / other


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _before_commit() -> str:
    try:
        return (
            subprocess.run(
                ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", BEFORE],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.strip()
            or BEFORE
        )
    except OSError:
        return BEFORE


def _mongo_store_kind() -> str:
    from importlib.util import find_spec

    if find_spec("flask_sessionstore.stores.mongo_writes") is not None:
        return "v2 (constant-size compare-and-set, records, automatic touch interval)"
    return "v1's, on the store interface's default code path (mongo-store not merged yet)"


def scale_table(res: dict) -> str:
    header = ["live sessions", "bytes/session (RSS)", "fill s", "get µs", "set µs (update)"]
    header += [
        "set µs (insert)",
        "one get() after mass expiry",
        "prune() the rest",
        "µs per pruned",
    ]
    rows = [
        [
            f"{r['n']:,d}",
            _fmt(r["bytes_per_session"]),
            _fmt(r["fill_s"], 2),
            _fmt(r["get_us"], 1),
            _fmt(r["set_us"], 1),
            _fmt(r["insert_us"], 1),
            f"{r['get_after_expiry_ms']:,.1f} ms ({r['reclaimed_by_get']:,d} reclaimed)",
            f"{r['reclaim_s'] * 1000:,.0f} ms ({r['pruned']:,d} sessions)",
            _fmt(r["reclaim_us_per_session"], 2),
        ]
        for r in res["results"]
    ]
    return _table(header, rows)


def _intro(results: dict) -> list[str]:
    info = results["machine"]
    return [
        "# Benchmark results",
        "",
        f"Produced by `{results['command']}` on {results['date']} in "
        f"{results['elapsed_s'] / 60:.1f} min{' (quick smoke run)' if results['quick'] else ''}. "
        f"Load average (1/5/15 min) at start {results.get('load_at_start', '?')}, at end "
        f"{results.get('load_at_end', '?')} (2 cores; the run's own servers and load "
        "generator are part of it; other work on the machine too)." + _section_loads(results),
        "Regenerate with `make bench`; everything below comes from that one run.",
        "",
        "## Machine and versions",
        "",
        _table(["", ""], [[k, v] for k, v in info.items()]),
        "",
        "**Before** is the v1 code at "
        f"`{BEFORE}` (exported with `git archive` into `benchmarks/.work/`, put first on "
        "`sys.path` of the child processes that measure it); **after** is this tree. Both run "
        "the same apps, scenarios and load generator in the same run. All setups share the same "
        "views; only the session layer differs. Each uses its defaults: Flask-Session keeps "
        "`SESSION_PERMANENT=True`, no signer and msgspec serialization; ours signs the cookie "
        "(HMAC-SHA256, express-compatible), keeps a browser-session cookie, `resave=False`, "
        "`save_uninitialized=False` and (after) records with `user_key='_user_id'`, "
        "`track_client=True` and the automatic touch interval. The session holds `_user_id`, "
        "`name`, `roles` (a list) and a counter `n`.",
        "",
    ]


def _section_loads(results: dict) -> str:
    loads = results.get("load_by_section")
    if not loads:
        return ""
    return (
        " 1-minute load average as each section started: "
        + ", ".join(f"{section} {value}" for section, value in loads.items())
        + "."
    )


def _targets(results: dict) -> list[str]:
    rows = [
        [issue, target, evidence, verdict_text(met)]
        for issue, target, evidence, met in results["targets"]
    ]
    return [
        "## Targets",
        "",
        "Timing verdicts compare medians of per-round ratios; a ratio at most 3 % over its "
        "limit is reported as *within noise*, not as met.",
        "",
        _table(["issue", "target", "measured", "verdict"], rows),
        "",
    ]


def findings(results: dict) -> list[str]:
    """Sentences read off this run's figures (none is written by hand)."""
    out = []
    prof = results.get("profile")
    if prof and "before" in prof:
        after, before = prof["after"]["steps"], prof["before"]["steps"]
        for scenario in ("modifying", "reading"):
            parts = []
            for step in (
                "interface.open_session",
                "  session load (on first use)",
                "interface.save_session",
            ):
                a, b = after[scenario].get(step), before[scenario].get(step)
                if a is not None and b is not None:
                    parts.append(f"{step.strip()} {b:.1f} → {a:.1f} µs ({a - b:+.1f})")
            whole_a, whole_b = after[scenario]["whole request"], before[scenario]["whole request"]
            out.append(
                f"MemoryStore, {scenario}: the whole request went {whole_b:.0f} → {whole_a:.0f} µs "
                f"under the step timers; " + "; ".join(parts) + "."
            )
    rt = results.get("roundtrips")
    if rt:
        size = str(rt["after"]["sizes"][0])

        def writer(code: str) -> dict | None:
            entry = rt.get(code, {}).get("mongo", {}).get("ours-mongo")
            cell = entry["sizes"][size].get("write") if entry else None
            return cell if cell and "update" in cell.get("latency_us", {}) else None

        b, a = writer("before"), writer("after")
        if a is not None and b is not None:
            before_us, after_us = b["latency_us"]["update"], a["latency_us"]["update"]
            text = (
                f"MongoStore writer on SecantusDB: the update command took {before_us:,.0f} µs "
                f"before and {after_us:,.0f} µs after (median, client-observed) while sending "
                f"{b['sent']:,.0f} B before and {a['sent']:,.0f} B after per request"
            )
            if after_us > before_us:
                text += (
                    ": the after code's documents carry the record, and the server maintains "
                    "a second index on every write (the owner index `user_1_expires_1`, beside "
                    "the TTL index)"
                )
            out.append(text + ".")
    return out


def markdown(results: dict) -> str:
    lines = _intro(results)
    for reason in (results.get("mongo_skipped"), results.get("redis_skipped")):
        if reason:
            lines += [f"**Skipped:** {reason}.", ""]
    lines += _targets(results)
    inproc, load, rt = results.get("inprocess"), results.get("load"), results.get("roundtrips")
    prof = results.get("profile")

    lines += ["## 1. Before vs after", ""]
    if inproc:
        lines += [
            f"In process (Flask test client, cookie jar kept): {inproc['rounds']} rounds of "
            f"{inproc['n']} requests per setup and scenario after {inproc['warmup']} warm-up "
            "requests; each code runs in its own worker process and the parent interleaves "
            "blocks of every (code, setup) in a new random order each round. µs/req is the "
            "median over rounds; after/before is the median of the per-round ratios; overhead "
            "is the median per-round difference from 'no session' in the same worker. "
            "The two workers differ by a few per cent even with no session (they hold "
            f"{len(inproc['plan']['after'])} and {len(inproc['plan'].get('before', []))} apps), "
            "so the corrected "
            "column divides each round's after/before by that round's no-session after/before; "
            "the verdicts use it. MongoStore runs on mongomock here.",
            "",
            t.before_after_inprocess(inproc),
            "",
        ]
    if load:
        lines += ["Under gunicorn (section 3's runs):", "", t.before_after_load(load), ""]
    if prof and "before" in prof:
        lines += [
            "Where the in-process time goes, before and after (MemoryStore, wall-clock µs per "
            "request inside each step, timers around the steps, no profiler; "
            f"{prof['after']['n']} requests; full profiles in "
            "[`profile.txt`](profile.txt) and [`profile-before.txt`](profile-before.txt)):",
            "",
            t.step_differences(prof),
            "",
        ]
        split = t.package_split(prof)
        if split:
            lines += [
                "Self time per request by package (cProfile, so every figure is inflated by "
                "the profiler; MongoStore on mongomock, MemoryStore; µs):",
                "",
                split,
                "",
            ]
    if rt:
        lines += [
            "## 2. Round trips and bytes per request",
            "",
            "MongoDB: commands sent to SecantusDB (its own process, TCP on 127.0.0.1), counted "
            "with a pymongo `CommandListener`; bytes are the BSON size of every command sent "
            "and every reply received (handshakes and start-up index creation excluded). Each "
            "cell: round trips (commands) · bytes sent · bytes received, mean per request. "
            "The toucher is a read-only request whose expiry is due: before each one the stored "
            "expiry is moved 6 h back by an uncounted client, as if that long had passed. "
            "Requests per size: "
            + ", ".join(f"{t.size_label(s)}: {n}" for s, n in rt["after"]["requests"].items())
            + ". connect-mongo's row is the spec's (express-session.md §5.6), not a measurement.",
            "",
        ]
        for size in rt["after"]["sizes"]:
            lines += [
                f"### {t.size_label(size)} session",
                "",
                t.mongo_roundtrips(rt, str(size)),
                "",
            ]
        lines += [
            "Bytes sent per write (the writer), against the size of the stored `session` "
            "value after the write (Flask-Session: its msgpack `val`):",
            "",
            t.write_bytes(rt),
            "",
            "Where a request's MongoDB time goes: each command's client-observed latency "
            "(pymongo's `duration_micros`, median, so round trip plus SecantusDB's work) at "
            f"{t.size_label(rt['after']['sizes'][0])}:",
            "",
            t.mongo_latency(rt),
            "",
        ]
    if load:
        lines += [
            "## 3. Load test",
            "",
            f"gunicorn (1 worker; gthread with {load['threads']} threads, or gevent) on "
            f"127.0.0.1, driven by {load['tool']} with {load['connections']} connections for "
            f"{load['seconds']:g} s per run after a {load['warmup']:g} s warm-up, "
            f"{load['passes']} pass(es) over the runs (the second in reverse order); req/s, "
            "p50 and p99 are medians over the passes, requests and error counts are totals. "
            "Every connection keeps its own session and sends `GET /write`; afterwards each "
            "session's counter is read back and compared with the 2xx responses that connection "
            "received (lost writes). Mongo setups use SecantusDB (pure Python) through TCP, "
            "which dominates their figures. Load generator, gunicorn and servers share the 2 "
            "cores.",
            "",
            "### gthread",
            "",
            t.load_table(load, "gthread"),
            "",
        ]
        if any(r["worker"] == "gevent" for r in load["results"].values()):
            lines += ["### gevent", "", t.load_table(load, "gevent"), ""]
    if inproc or rt:
        lines += ["## 4. Records on vs off", ""]
        if inproc:
            lines += [
                "Defaults (records: owner, created, last seen, IP, user agent) against "
                "`user_key=False, track_client=False`, in process, interleaved with everything "
                "else in section 1 (Mongo on mongomock, Redis on a real redis-server). 'on vs "
                "off' is the median of the per-round ratios of whole-request time.",
                "",
                t.records_inprocess(inproc),
                "",
            ]
        if rt:
            lines += [
                "Round trips (commands) on / off per request at "
                f"{t.size_label(rt['after']['sizes'][0])}, from section 2 "
                "and section 6:",
                "",
                t.records_roundtrips(rt),
                "",
            ]
    owners = results.get("owners")
    if owners:
        lines += [
            "## 5. `sessions_of` / `revoke_user` as the other sessions grow",
            "",
            "A user owns 5 sessions among N others (3 per other user), written through the "
            "store's own `write`; the store's own `sessions_of` and `revoke_user` are timed "
            "(median and p90 of 30 and 10 calls; the 5 sessions are written again before each "
            "revoke). The other sessions are copies of one the store wrote, inserted in bulk "
            "(MongoDB on SecantusDB: `insert_many` with the TTL and owner indexes dropped, then "
            "rebuilt with the store's own specifications; Redis: pipelines; MemoryStore: its "
            "`write`).",
            "",
            t.owners_table(owners),
            "",
        ]
        for store, res in owners.items():
            if res.get("note"):
                lines += [f"{store}: {res['note']}.", ""]
    cas = results.get("redis_cas")
    if inproc or cas or rt:
        lines += ["## 6. Redis: ours vs Flask-Session", ""]
        if inproc:
            redis_in = t.redis_inprocess(inproc)
            if redis_in:
                lines += ["In process (section 1's run):", "", redis_in, ""]
        if load:
            keys = {r["key"] for r in load["results"].values()}
            if "ours-redis" in keys:
                lines += ["Under gunicorn gthread: see section 3.", ""]
        if rt and rt["after"].get("redis"):
            lines += [
                "Commands per request, counted on the client's connections (a Lua script is "
                "one `EVALSHA`), with the bytes sent (RESP):",
                "",
            ]
            for size in rt["after"]["sizes"]:
                lines += [f"{t.size_label(size)} session:", "", t.redis_commands(rt, str(size)), ""]
        if cas:
            lines += [
                "RedisStore's compare-and-set, Lua script vs WATCH/MULTI "
                f"(`benchmarks/redis_cas.py`): "
                f"{cas['writes']} load-then-write cycles per thread on one session, 1 and "
                f"{cas['threads']} threads:",
                "",
                t.redis_cas_table(cas),
                "",
            ]
    if inproc:
        lines += [
            "## 7. In-process peers (issue 5)",
            "",
            "The issue-5 comparison on the after code, from section 1's run. The 'no session' "
            "clients carry a dummy cookie of the same size as ours, so the test client's "
            "cookie-jar work is not billed to the session layers. Overhead ratio: our overhead "
            "divided by the other setup's (lower is better; targets ≤ 0.5 against SimpleCache "
            "and ≤ 0.25 against the cookie session).",
            "",
            t.peers_inprocess(inproc),
            "",
        ]
        if inproc["writes_lost"]:
            lines += [f"Counter check failed: {inproc['writes_lost']}", ""]
        else:
            lines += [
                f"Counter check: every session's counter equals the {inproc['writes_checked']} "
                "writes made.",
                "",
            ]
    scale = results.get("scale")
    if scale:
        lines += [
            "## 8. MemoryStore at scale",
            "",
            "One fresh process per size. Memory is the RSS growth while filling the store "
            "with sessions like the one above. get/set are means over "
            f"{scale['sample']:,d} random existing sessions; insert adds "
            f"{scale['sample']:,d} new ones. Then the store's clock is moved two hours on, so "
            "every session has expired: one `get()` reclaims a bounded batch and `prune()` "
            "reclaims the rest.",
            "",
            scale_table(scale),
            "",
        ]
    if prof:
        after = prof["after"]
        lines += [
            "## 9. Profile of our hot path (after)",
            "",
            f"Returning visitor modifying, MemoryStore, {after['n']} requests; our functions by "
            "cumulative time (cProfile, so inflated by profiler overhead; the whole request "
            f"took {after['request_us_under_cprofile']:.0f} µs under it, "
            f"{prof['before']['request_us_under_cprofile']:.0f} µs before). The step "
            "breakdown is in section 1; pyinstrument's call tree in "
            "[`profile.txt`](profile.txt).",
            "",
            t.cprofile_table(after),
            "",
        ]
    notes = findings(results) + results.get("notes", [])
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    lines += ["![results](results.png)", ""]
    return "\n".join(lines)


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("inprocess", "load") if results.get(p)]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(8 * len(panels), 5.2), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "inprocess":
            res = results["inprocess"]
            units = [u for u in res["units"] if not u.startswith("none") and "norec" not in u]
            width = 0.8 / len(units)
            cmap = plt.get_cmap("tab20")
            for i, unit in enumerate(units):
                values = [res["overhead"][s][unit] for s in SCENARIOS]
                xs = [j + (i - (len(units) - 1) / 2) * width for j in range(len(SCENARIOS))]
                ax.bar(xs, values, width, label=t.label(unit), color=cmap(i))
            ax.set_xticks(range(len(SCENARIOS)))
            ax.set_xticklabels([name for name, _ in SCENARIOS.values()])
            ax.set_ylabel("overhead over no session, µs/request (lower is better)")
            ax.set_title("In-process cost of the session layer")
            ax.axhline(0, color="black", linewidth=0.6)
            ax.legend(fontsize=7)
        else:
            res = results["load"]
            runs = list(res["results"].values())
            names = [
                t.BY_KEY[r["key"]].label
                + (" (before)" if r["code"] == "before" else "")
                + (" [gevent]" if r["worker"] == "gevent" else "")
                for r in runs
            ]
            values = [r["rps"] for r in runs]
            colors = [
                "#bbbbbb"
                if not t.BY_KEY[r["key"]].ours
                else ("#9ecae1" if r["code"] == "before" else "#3182bd")
                for r in runs
            ]
            ax.bar(range(len(runs)), values, color=colors)
            ax.set_xticks(range(len(runs)))
            ax.set_xticklabels(names, rotation=35, ha="right", fontsize=7)
            ax.set_ylabel("requests/s (higher is better)")
            ax.set_title("gunicorn 1 worker, GET /write (Mongo: SecantusDB)")
            for x, v in enumerate(values):
                ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=7)
    fig.suptitle(f"flask-sessionstore benchmarks, {results['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def console(results: dict[str, Any]) -> str:
    """The headline tables for the terminal, then every target."""
    out = []
    if results.get("inprocess"):
        out += ["Before vs after, in process", t.before_after_inprocess(results["inprocess"]), ""]
    if results.get("load"):
        out += ["Before vs after, under gunicorn", t.before_after_load(results["load"]), ""]
        out += [
            f"Load ({results['load']['tool']}), gthread",
            t.load_table(results["load"], "gthread"),
            "",
        ]
    if results.get("roundtrips"):
        out += ["Bytes per write", t.write_bytes(results["roundtrips"]), ""]
    if results.get("owners"):
        out += ["sessions_of / revoke_user", t.owners_table(results["owners"]), ""]
    out += ["Targets"]
    out += [f"  [{verdict_text(m)}] {target}: {e}" for _, target, e, m in results["targets"]]
    return "\n".join(out)
