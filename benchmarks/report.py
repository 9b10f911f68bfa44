"""Turn the measurements into tables, RESULTS.md, the chart and the target verdicts."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .apps import BY_KEY, peer_of
from .inprocess import SCENARIOS

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


def inprocess_tables(res: dict) -> str:
    setups = res["setups"]
    parts = []
    header = ["setup"]
    for _, (label, _) in SCENARIOS.items():
        header += [f"{label}: µs/req", "overhead µs"]
    rows = []
    for key in setups:
        row = [BY_KEY[key].label]
        for scenario in SCENARIOS:
            row += [
                _fmt(res["median"][scenario][key], 1),
                _fmt(res["overhead"][scenario][key], 1),
            ]
        rows.append(row)
    parts.append(_table(header, rows))

    header = ["ours", "compared with"] + [label for label, _ in SCENARIOS.values()]
    rows = []
    for key in setups:
        setup = BY_KEY[key]
        if not setup.ours:
            continue
        peers = [BY_KEY["cookie"]] if not setup.mongo else []
        peer = peer_of(setup)
        if peer is not None and peer.key in setups:
            peers.append(peer)
        for other in peers:
            if other.key not in setups:
                continue
            row = [setup.label, other.label + " (overhead ratio)"]
            for scenario in SCENARIOS:
                over = res["overhead"][scenario]
                ratio = _ratio(over[key], over[other.key])
                row.append("n/a" if ratio is None else f"{ratio:.2f}")
            rows.append(row)
            if setup.mongo:
                row = [setup.label, other.label + " (µs/request ratio)"]
                for scenario in SCENARIOS:
                    med = res["median"][scenario]
                    row.append(f"{med[key] / med[other.key]:.2f}")
                rows.append(row)
    parts.append(_table(header, rows))
    return "\n\n".join(parts)


def roundtrip_table(res: dict) -> str:
    header = ["setup"] + [label for label, _ in SCENARIOS.values()]
    rows = []
    for entry in res["results"].values():
        row = [entry["label"]]
        for scenario in SCENARIOS:
            cell = entry["scenarios"][scenario]
            detail = ", ".join(f"{v:g} {k}" for k, v in cell["by_command"].items())
            row.append(f"{cell['per_request']:g}" + (f" ({detail})" if detail else ""))
        rows.append(row)
    return _table(header, rows)


def load_table(res: dict) -> str:
    header = ["setup", "req/s", "runs", "p50 ms", "p99 ms", "requests", "socket errors"]
    header += ["non-2xx"]
    header += ["lost writes", "clean"]
    rows = []
    for key, r in res["results"].items():
        rows.append(
            [
                BY_KEY[key].label,
                _fmt(r["rps"]),
                " / ".join(_fmt(x) for x in r["rps_runs"]),
                _fmt(r["p50_ms"], 2),
                _fmt(r["p99_ms"], 2),
                _fmt(r["requests"]),
                str(r["socket_errors"]),
                str(r["non_2xx"]),
                "n/a (no session)" if key == "none" else str(r["lost"]),
                "yes" if r["ok"] else "**no**",
            ]
        )
    return _table(header, rows)


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


def profile_table(res: dict) -> str:
    header = ["function", "cumulative µs/req", "self µs/req", "calls/req"]
    rows = [
        [
            f"`{r['function']}`",
            _fmt(r["cumulative_us"], 1),
            _fmt(r["self_us"], 1),
            _fmt(r["calls_per_request"], 1),
        ]
        for r in res["ours"][:12]
    ]
    return _table(header, rows)


def steps_table(res: dict) -> str:
    steps = res["steps"]
    rows = [
        [
            "· " * ((len(label) - len(label.lstrip())) // 2) + label.strip(),
            _fmt(steps["modifying"][label], 1),
            _fmt(steps["reading"].get(label), 1),
        ]
        for label in steps["modifying"]
    ]
    return _table(["step (inclusive)", "modifying µs/req", "reading µs/req"], rows)


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """(target, evidence, met) for each target of issue 5; met None = not measured."""
    out: list[tuple[str, str, bool | None]] = []
    inproc = results.get("inprocess")
    if inproc:
        over = inproc["overhead"]
        for peer, factor in (("fs-simplecache", 0.5), ("cookie", 0.25)):
            for scenario, (label, _) in SCENARIOS.items():
                ours, other = over[scenario].get("ours-memory"), over[scenario].get(peer)
                if ours is None or other is None:
                    continue
                met = ours <= factor * other
                out.append(
                    (
                        f"MemoryStore overhead ≤ {factor:g} x {BY_KEY[peer].label}'s ({label})",
                        f"{ours:.1f} µs vs {other:.1f} µs (limit {factor * other:.1f} µs)",
                        met,
                    )
                )
        med = inproc["median"]
        if "ours-mongo" in inproc["setups"]:
            for scenario, (label, _) in SCENARIOS.items():
                ours, other = med[scenario]["ours-mongo"], med[scenario]["fs-mongo"]
                out.append(
                    (
                        f"MongoStore on mongomock no slower than Flask-Session MongoDB ({label})",
                        f"{ours:.1f} µs vs {other:.1f} µs per request",
                        ours <= other,
                    )
                )
        else:
            out.append(
                (
                    "MongoStore on mongomock no slower than Flask-Session MongoDB",
                    results.get("mongo_skipped") or "not measured",
                    None,
                )
            )
    rt = results.get("roundtrips")
    if rt and "ours-mongo" in rt["results"]:
        ours = rt["results"]["ours-mongo"]["scenarios"]["read"]["per_request"]
        other = rt["results"]["fs-mongo"]["scenarios"]["read"]["per_request"]
        out.append(
            (
                "MongoStore strictly fewer round trips, read-only scenario (defaults)",
                f"{ours:g} vs {other:g} per request",
                ours < other,
            )
        )
        lazy = rt["results"].get("ours-mongo-lazy")
        if lazy:
            value = lazy["scenarios"]["read"]["per_request"]
            out.append(
                (
                    "… the same with touch_after=60 s",
                    f"{value:g} vs {other:g} per request",
                    value < other,
                )
            )
    elif rt:
        out.append(
            (
                "MongoStore strictly fewer round trips, read-only scenario",
                results.get("mongo_skipped") or "not measured",
                None,
            )
        )
    load = results.get("load")
    if load:
        bad = [BY_KEY[k].label for k, r in load["results"].items() if not r["ok"]]
        out.append(
            (
                "Nothing lost or errored under load",
                "all clean" if not bad else "problems in: " + ", ".join(bad),
                not bad,
            )
        )
    return out


def _where_time_goes(steps: dict[str, dict[str, float]]) -> str:
    """One sentence on where our MemoryStore time goes, from the step breakdown."""
    parts = []
    for scenario in ("reading", "modifying"):
        step = {label.strip(): value for label, value in steps[scenario].items()}
        store = sum(value for name, value in step.items() if name.startswith("MemoryStore."))
        tagging = step.get("serialization.dump_data", 0.0) + step.get(
            "serialization.load_data", 0.0
        )
        ours = (
            step.get("interface.open_session", 0.0)
            + step.get("session._load (on first use)", 0.0)
            + step.get("interface.save_session", 0.0)
        )
        parts.append(
            f"{scenario}: {ours:.0f} µs in our code, of which {store:.0f} µs in MemoryStore "
            f"and {tagging:.0f} µs in tagging/untagging"
        )
    return (
        "Where our MemoryStore time goes (wall clock, section 5): "
        + "; ".join(parts)
        + ". The rest of the overhead measured in section 1 is Flask's own session "
        "plumbing around our hooks, the test client's cookie handling, and noise."
    )


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def markdown(results: dict) -> str:
    info = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{results['command']}` on {results['date']} in "
        f"{results['elapsed_s'] / 60:.1f} min{' (quick smoke run)' if results['quick'] else ''}.",
        "Regenerate with `make bench`; everything below comes from that one run.",
        "",
        "## Machine and versions",
        "",
        _table(["", ""], [[k, v] for k, v in info.items()]),
        "",
        "All setups share the same app and views; only the session layer differs. "
        "Each uses its defaults: Flask-Session keeps `SESSION_PERMANENT=True`, no signer and "
        "msgspec serialization; ours signs the cookie (HMAC-SHA256, express-compatible), keeps "
        "a browser-session cookie and uses `resave=False`, `save_uninitialized=False`. "
        "The session holds `user_id`, `name`, `roles` (a list) and a counter `n`.",
        "",
    ]
    if results.get("mongo_skipped"):
        lines += [f"**Our MongoStore was not measured:** {results['mongo_skipped']}.", ""]
    lines += ["## Targets (issue 5)", ""]
    lines += [
        _table(
            ["target", "measured", "verdict"],
            [[t, e, _verdict(m)] for t, e, m in results["targets"]],
        ),
        "",
    ]
    prof = results.get("profile")
    if prof and prof.get("steps"):
        lines += [_where_time_goes(prof["steps"]), ""]
    inproc = results.get("inprocess")
    if inproc:
        lines += [
            "## 1. In-process cost per request",
            "",
            f"Flask test client with its cookie jar kept; {inproc['rounds']} rounds of "
            f"{inproc['n']} requests per setup and scenario after {inproc['warmup']} warm-up "
            "requests, the setups interleaved in a new random order each round. µs/request is "
            "the median over rounds; overhead is the median of the per-round differences from "
            "'no session' in the same round (so it can dip below zero by noise). "
            "Mongo setups run on mongomock in-process (Flask-Session's MongoClient "
            "monkeypatched to accept it). The 'no session' clients carry a dummy cookie of "
            "the same size as ours, so the test client's cookie-jar work is not billed to the "
            "session layers.",
            "",
            inprocess_tables(inproc),
            "",
            "Overhead ratio: our overhead divided by the other setup's (lower is better; "
            "the targets are ≤ 0.5 against SimpleCache and ≤ 0.25 against the cookie "
            "session). 'n/a' when the other setup's overhead is not above zero.",
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
    rt = results.get("roundtrips")
    if rt:
        lines += [
            "## 2. Database round trips per request",
            "",
            "Commands sent to SecantusDB (a MongoDB wire-protocol server in its own process "
            "on 127.0.0.1), counted with a pymongo `CommandListener`; handshakes and start-up "
            f"index creation excluded; mean over {rt['requests']} requests after the first.",
            "",
            roundtrip_table(rt),
            "",
        ]
    load = results.get("load")
    if load:
        tool = (
            "wrk"
            if load["tool"] == "wrk"
            else "a threaded Python load generator (wrk was unavailable)"
        )
        lines += [
            "## 3. Load test",
            "",
            f"gunicorn (1 worker, gthread, 4 threads) on 127.0.0.1, driven by {tool} with "
            f"{load['connections']} connections for {load['seconds']:g} s per setup after a "
            f"{load['warmup']:g} s warm-up, {load['passes']} pass(es) over the setups (the "
            "second in reverse order); req/s, p50 and p99 are medians over the passes, "
            "requests and error counts are totals. Every connection keeps its own session "
            "and sends `GET /write`; "
            "afterwards each session's counter is read back and compared with the 2xx "
            "responses that connection received (lost writes). Mongo setups use SecantusDB "
            "through TCP, which dominates their figures. The load generator, gunicorn and "
            "the database share the 2 cores.",
            "",
            load_table(load),
            "",
        ]
    scale = results.get("scale")
    if scale:
        lines += [
            "## 4. MemoryStore at scale",
            "",
            "One fresh process per size. Memory is the RSS growth while filling the store "
            "with sessions like the one above. get/set are means over "
            f"{scale['sample']:,d} random existing sessions; insert adds "
            f"{scale['sample']:,d} new ones. Then the store's clock is moved two hours on, so "
            "every session has expired: one `get()` reclaims a bounded batch (so no request "
            "stalls behind a mass expiry; expired sessions are invisible at once) and "
            "`prune()` reclaims the rest.",
            "",
            scale_table(scale),
            "",
        ]
    prof = results.get("profile")
    if prof:
        lines += [
            "## 5. Profile of our hot path",
            "",
            f"Returning visitor modifying, MemoryStore, {prof['n']} requests; full output "
            f"with pyinstrument's call tree in [`{prof['file']}`]({prof['file']}). "
            "Wall-clock time inside our main steps (timers around them, no profiler; the "
            "whole request includes Flask, Werkzeug and the test client):",
            "",
            steps_table(prof),
            "",
            "Our functions by cumulative time (cProfile, so inflated by profiler overhead; "
            f"the whole request took {prof['request_us_under_cprofile']:.0f} µs under it):",
            "",
            profile_table(prof),
            "",
        ]
    if results.get("notes"):
        lines += ["## Notes", ""] + [f"- {note}" for note in results["notes"]] + [""]
    lines += ["![results](results.png)", ""]
    return "\n".join(lines)


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("inprocess", "load") if results.get(p)]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.8), squeeze=False)
    colors = {
        "none": "#bbbbbb",
        "cookie": "#8c6d31",
        "fs-simplecache": "#e6550d",
        "fs-mongo": "#fd8d3c",
        "ours-memory": "#3182bd",
        "ours-mongo": "#6baed6",
    }
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "inprocess":
            res = results["inprocess"]
            setups = [k for k in res["setups"] if k != "none"]
            width = 0.8 / len(setups)
            for i, key in enumerate(setups):
                values = [res["overhead"][s][key] for s in SCENARIOS]
                xs = [j + (i - (len(setups) - 1) / 2) * width for j in range(len(SCENARIOS))]
                ax.bar(xs, values, width, label=BY_KEY[key].label, color=colors[key])
            ax.set_xticks(range(len(SCENARIOS)))
            ax.set_xticklabels([label for label, _ in SCENARIOS.values()])
            ax.set_ylabel("overhead over no session, µs/request (lower is better)")
            ax.set_title("In-process cost of the session layer")
            ax.axhline(0, color="black", linewidth=0.6)
            ax.legend(fontsize=8)
        else:
            res = results["load"]
            keys = list(res["results"])
            values = [res["results"][k]["rps"] for k in keys]
            ax.bar(range(len(keys)), values, color=[colors[k] for k in keys])
            ax.set_xticks(range(len(keys)))
            ax.set_xticklabels([BY_KEY[k].label for k in keys], rotation=25, ha="right")
            ax.set_ylabel("requests/s (higher is better)")
            ax.set_title("gunicorn 1 worker, 4 threads, GET /write (Mongo: SecantusDB)")
            for x, v in enumerate(values):
                ax.text(x, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"flask-sessionstore benchmarks, {results['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def console(results: dict[str, Any]) -> str:
    """The tables for the terminal (the same Markdown, minus the prose)."""
    out = []
    if results.get("inprocess"):
        out += ["In-process cost per request", inprocess_tables(results["inprocess"]), ""]
    if results.get("roundtrips"):
        out += ["Round trips per request", roundtrip_table(results["roundtrips"]), ""]
    if results.get("load"):
        out += [f"Load ({results['load']['tool']})", load_table(results["load"]), ""]
    if results.get("scale"):
        out += ["MemoryStore at scale", scale_table(results["scale"]), ""]
    if results.get("profile"):
        out += ["Profile (ours, modifying)", profile_table(results["profile"]), ""]
    out += ["Targets"]
    out += [f"  [{_verdict(m)}] {t}: {e}" for t, e, m in results["targets"]]
    return "\n".join(out)
