"""The Markdown tables of RESULTS.md, one function per table, from the raw results."""

from __future__ import annotations

import statistics
from typing import Any

from .apps import BY_KEY, peer_of
from .inprocess import SCENARIOS, corrected_ratio, ratio
from .roundtrips import SCENARIOS as RT_SCENARIOS

#: connect-mongo 6's round trips per request, from shared/spec/express-session.md
#: section 5.6 (resave false, saveUninitialized false).
CONNECT_MONGO = {
    "new": "0",
    "read": "2 (findOne, updateOne) with touchAfter 0; 1 (findOne) within touchAfter",
    "touch": "2 (findOne, updateOne)",
    "write": "2 (findOne, updateOne upsert)",
}
KB = 1024


def fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def label(unit: str) -> str:
    """``ours-memory@before`` -> ``ours MemoryStore (before)``."""
    key, _, code = unit.partition("@")
    return BY_KEY[key].label + (f" ({code})" if code else "")


def size_label(size: int | str) -> str:
    size = int(size)
    if size >= 1024**2:
        return f"{size / 1024**2:g} MB"
    return f"{size / 1024:g} KB"


def bytes_label(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 1024**2:
        return f"{value / 1024**2:,.2f} MB"
    if value >= 10 * 1024:
        return f"{value / 1024:,.1f} KB"
    return f"{value:,.0f} B"


# -- 1. before vs after -------------------------------------------------------------


def before_after_inprocess(res: dict) -> str:
    rows = []
    for key in ("none", "ours-memory", "ours-mongo"):
        before = f"{key}@before"
        if before not in res["units"] or key not in res["units"]:
            continue
        for scenario, (name, _) in SCENARIOS.items():
            r = ratio(res, scenario, key, before)
            c = corrected_ratio(res, scenario, key) if key != "none" else None
            rows.append(
                [
                    BY_KEY[key].label,
                    name,
                    fmt(res["median"][scenario][before], 1),
                    fmt(res["median"][scenario][key], 1),
                    "n/a" if r is None else f"{r:.2f}",
                    "—" if c is None else f"{c:.2f}",
                    fmt(res["overhead"][scenario][before], 1),
                    fmt(res["overhead"][scenario][key], 1),
                ]
            )
    header = ["setup", "scenario", "before µs/req", "after µs/req", "after / before"]
    header += ["after / before, no-session corrected", "before overhead µs", "after overhead µs"]
    return table(header, rows)


def before_after_load(res: dict) -> str:
    rows = []
    for _run_id, r in res["results"].items():
        if r["code"] != "before":
            continue
        after = res["results"].get(f"{r['key']}|{r['worker']}")
        if after is None:
            continue
        rows.append(
            [
                BY_KEY[r["key"]].label,
                r["worker"],
                fmt(r["rps"]),
                fmt(after["rps"]),
                f"{after['rps'] / r['rps']:.2f}",
                f"{r['p99_ms']:.1f} / {after['p99_ms']:.1f}",
                "yes" if r["ok"] and after["ok"] else "**no**",
            ]
        )
    header = ["setup", "worker", "before req/s", "after req/s", "after / before"]
    header += ["p99 ms before / after", "clean (both)"]
    return table(header, rows)


def step_differences(profile: dict) -> str:
    """The breakdown of before and after side by side (µs per request, inclusive)."""
    after, before = profile["after"]["steps"], profile["before"]["steps"]
    rows = []
    for step in after["modifying"]:
        name = "· " * ((len(step) - len(step.lstrip())) // 2) + step.strip()
        cells = [name]
        for scenario in ("modifying", "reading"):
            a, b = after[scenario].get(step), before[scenario].get(step)
            cells += [fmt(b, 1) if b is not None else "—", fmt(a, 1)]
        rows.append(cells)
    header = ["step (inclusive)", "modifying: before", "after", "reading: before", "after"]
    return table(header, rows)


# -- 2. round trips and bytes ------------------------------------------------------------


def _cell(cell: dict | None, received: bool = True) -> str:
    if cell is None:
        return "n/a"
    if cell["errors"]:
        return "**failed**: " + "; ".join(cell["errors"])
    detail = ", ".join(f"{v:g} {k}" for k, v in cell["by_command"].items())
    text = f"{cell['per_request']:g}" + (f" ({detail})" if detail else "")
    text += f" · {bytes_label(cell['sent'])} sent"
    if received:
        text += f" · {bytes_label(cell['received'])} received"
    return text


def mongo_roundtrips(rt: dict, size: str) -> str:
    rows = [["connect-mongo 6 (spec §5.6)"] + [CONNECT_MONGO[s] for s in RT_SCENARIOS]]
    entries = []
    for code in ("before", "after"):
        for key, entry in rt.get(code, {}).get("mongo", {}).items():
            entries.append((code, key, entry))
    order = {"fs-mongo": 0, "ours-mongo": 1, "ours-mongo-norec": 2, "ours-mongo-lazy": 3}
    entries.sort(key=lambda e: (order.get(e[1], 9), e[0] != "before"))
    for code, _key, entry in entries:
        cells = entry["sizes"].get(size)
        if cells is None:
            continue
        name = entry["label"] + (" — before" if code == "before" else "")
        rows.append([name] + [_cell(cells.get(s)) for s in RT_SCENARIOS])
    header = ["setup"] + [name for name, _ in RT_SCENARIOS.values()]
    return table(header, rows)


def write_bytes(rt: dict) -> str:
    """Bytes sent per write against the stored value, at every size."""
    rows = []
    sizes = rt["after"]["sizes"]
    columns = [
        ("after", "fs-mongo", "Flask-Session MongoDB"),
        ("before", "ours-mongo", "ours before"),
        ("after", "ours-mongo", "ours after"),
    ]
    for size in sizes:
        row = [size_label(size)]
        value = None
        for code, key, _ in columns:
            cell = rt.get(code, {}).get("mongo", {}).get(key, {}).get("sizes", {}).get(str(size))
            write = None if cell is None else cell.get("write")
            if write is None:
                row.append("n/a")
            elif write["errors"]:
                row.append("**failed**: " + "; ".join(write["errors"]))
            else:
                stored = write.get("value_size")
                row.append(
                    f"{bytes_label(write['sent'])} (value {bytes_label(stored)}, "
                    f"+{bytes_label(write['sent'] - (stored or 0))})"
                )
                if code == "after" and key == "ours-mongo":
                    value = (write["sent"], stored)
        if value is None or value[1] is None:
            row.append("n/a")
        else:
            sent, stored = value
            row.append(
                f"{'met' if sent <= stored + KB else '**not met**'} ({sent - stored:,.0f} B over)"
            )
        rows.append(row)
    header = ["session size"] + [f"{name}: sent per write" for _, _, name in columns]
    header.append("ours after ≤ value + 1 KB")
    return table(header, rows)


def redis_commands(rt: dict, size: str) -> str:
    rows = []
    for entry in rt.get("after", {}).get("redis", {}).values():
        cells = entry["sizes"].get(size)
        if cells is None:
            continue
        rows.append([entry["label"]] + [_cell(cells.get(s), received=False) for s in RT_SCENARIOS])
    header = ["setup"] + [name for name, _ in RT_SCENARIOS.values()]
    return table(header, rows)


# -- 3. load ------------------------------------------------------------------------


def load_table(res: dict, worker: str) -> str:
    header = ["setup", "req/s", "runs", "p50 ms", "p99 ms", "requests", "socket errors"]
    header += ["non-2xx", "lost writes", "clean"]
    rows = []
    for r in res["results"].values():
        if r["worker"] != worker:
            continue
        name = BY_KEY[r["key"]].label + (" (before)" if r["code"] == "before" else "")
        rows.append(
            [
                name,
                fmt(r["rps"]),
                " / ".join(fmt(x) for x in r["rps_runs"]),
                fmt(r["p50_ms"], 2),
                fmt(r["p99_ms"], 2),
                fmt(r["requests"]),
                str(r["socket_errors"]),
                str(r["non_2xx"]),
                "n/a (no session)" if r["key"] == "none" else str(r["lost"]),
                "yes" if r["ok"] else "**no**",
            ]
        )
    return table(header, rows)


# -- 4. records on vs off ----------------------------------------------------------------


def records_inprocess(res: dict) -> str:
    rows = []
    for off in ("ours-memory-norec", "ours-redis-norec", "ours-mongo-norec"):
        on = off.removesuffix("-norec")
        if off not in res["units"] or on not in res["units"]:
            continue
        for scenario, (name, _) in SCENARIOS.items():
            r = ratio(res, scenario, on, off)
            rows.append(
                [
                    BY_KEY[on].label,
                    name,
                    fmt(res["median"][scenario][on], 1),
                    fmt(res["median"][scenario][off], 1),
                    "n/a" if r is None else f"{(r - 1) * 100:+.1f} %",
                    "met" if r is not None and r <= 1.05 else "**not met**",
                ]
            )
    header = ["store", "scenario", "records on (defaults) µs/req", "records off µs/req"]
    header += ["on vs off", "≤ +5 %"]
    return table(header, rows)


def records_roundtrips(rt: dict) -> str:
    rows = []
    after = rt.get("after", {})
    first = str(after.get("sizes", [1024])[0])
    for family, on, off in (
        ("mongo", "ours-mongo", "ours-mongo-norec"),
        ("redis", "ours-redis", "ours-redis-norec"),
    ):
        entries = after.get(family, {})
        if on not in entries or off not in entries:
            continue
        row = [entries[on]["label"].split(" (")[0]]
        for scenario in RT_SCENARIOS:
            a = entries[on]["sizes"][first].get(scenario)
            b = entries[off]["sizes"][first].get(scenario)
            if a is None or b is None:
                row.append("n/a")
                continue
            same = a["per_request"] == b["per_request"]
            row.append(
                f"{a['per_request']:g} / {b['per_request']:g} "
                f"({'unchanged' if same else '**changed**'}; "
                f"{bytes_label(a['sent'])} / {bytes_label(b['sent'])} sent)"
            )
        rows.append(row)
    header = ["store"] + [f"{name}: on / off" for name, _ in RT_SCENARIOS.values()]
    return table(header, rows)


# -- 5. owners at scale --------------------------------------------------------------------


def owners_table(owners: dict) -> str:
    rows = []
    for store, res in owners.items():
        if "skipped" in res:
            rows.append([store, res["skipped"]] + [""] * 5)
            continue
        for r in res["results"]:
            rows.append(
                [
                    store,
                    f"{r['sessions']:,d}",
                    f"{r['sessions_of_ms']:.3f} (p90 {r['sessions_of_p90_ms']:.3f})",
                    f"{r['revoke_user_ms']:.3f} (p90 {r['revoke_user_p90_ms']:.3f})",
                    f"{r['found']} / {r['revoked']} / {r['left_after_revoke']}",
                    f"{r['insert_s']:.1f}"
                    + (f" + {r['index_rebuild_s']:.1f} index" if "index_rebuild_s" in r else ""),
                    r.get("plan", ""),
                ]
            )
    header = ["store", "sessions", "sessions_of ms", "revoke_user ms", "found / revoked / left"]
    header += ["fill s", "query plan"]
    return table(header, rows)


# -- 6. Redis --------------------------------------------------------------------------


def redis_inprocess(res: dict) -> str:
    rows = []
    for scenario, (name, _) in SCENARIOS.items():
        ours, theirs = "ours-redis", "fs-redis"
        if ours not in res["units"] or theirs not in res["units"]:
            return ""
        over = res["overhead"][scenario]
        oratio = over[ours] / over[theirs] if over[theirs] > 0 else None
        r = ratio(res, scenario, ours, theirs)
        rows.append(
            [
                name,
                fmt(res["median"][scenario][theirs], 1),
                fmt(res["median"][scenario][ours], 1),
                fmt(over[theirs], 1),
                fmt(over[ours], 1),
                "n/a" if oratio is None else f"{oratio:.2f}",
                "n/a" if r is None else f"{r:.2f}",
            ]
        )
    header = ["scenario", "Flask-Session Redis µs/req", "ours RedisStore µs/req"]
    header += ["their overhead µs", "our overhead µs", "overhead ratio", "µs/req ratio"]
    return table(header, rows)


def redis_cas_table(res: dict) -> str:
    rows = [
        [
            r["variant"],
            str(r["threads"]),
            f"{r['commands_per_write']:.2f}",
            f"{r['trips_per_write']:.2f}",
            "-" if r["retries"] is None else str(r["retries"]),
            f"{r['median_ms']:.3f}",
            f"{r['p99_ms']:.3f}",
            str(r["lost"]),
        ]
        for r in res["rows"]
    ]
    header = ["variant", "threads", "commands/write", "round trips/write", "retries"]
    header += ["median ms", "p99 ms", "lost"]
    return table(header, rows)


# -- 7. the issue-5 peer tables ------------------------------------------------------------


def peers_inprocess(res: dict) -> str:
    units = [u for u in res["units"] if "@" not in u and BY_KEY[u].records]
    header = ["setup"]
    for label_, _ in SCENARIOS.values():
        header += [f"{label_}: µs/req", "overhead µs"]
    rows = []
    for unit in units:
        row = [label(unit)]
        for scenario in SCENARIOS:
            row += [fmt(res["median"][scenario][unit], 1), fmt(res["overhead"][scenario][unit], 1)]
        rows.append(row)
    parts = [table(header, rows)]

    header = ["ours", "compared with"] + [name for name, _ in SCENARIOS.values()]
    rows = []
    for unit in units:
        setup = BY_KEY[unit]
        if not setup.ours:
            continue
        peers = [BY_KEY["cookie"]] if setup.family == "memory" else []
        peer = peer_of(setup)
        if peer is not None and peer.key in units:
            peers.append(peer)
        for other in peers:
            row = [setup.label, other.label + " (overhead ratio)"]
            for scenario in SCENARIOS:
                over = res["overhead"][scenario]
                r = over[unit] / over[other.key] if over[other.key] > 0 else None
                row.append("n/a" if r is None else f"{r:.2f}")
            rows.append(row)
            if setup.family != "memory":
                row = [setup.label, other.label + " (µs/request ratio)"]
                for scenario in SCENARIOS:
                    r = ratio(res, scenario, unit, other.key)
                    row.append("n/a" if r is None else f"{r:.2f}")
                rows.append(row)
    parts.append(table(header, rows))
    return "\n\n".join(parts)


def median_of(values: list[float]) -> float:
    return statistics.median(values)


def cprofile_table(res: dict[str, Any]) -> str:
    rows = [
        [
            f"`{r['function']}`",
            fmt(r["cumulative_us"], 1),
            fmt(r["self_us"], 1),
            fmt(r["calls_per_request"], 1),
        ]
        for r in res["ours"][:12]
    ]
    return table(["function", "cumulative µs/req", "self µs/req", "calls/req"], rows)


def mongo_latency(rt: dict) -> str:
    """Client-observed latency of each MongoDB command (median µs) at the first size."""
    size = str(rt["after"]["sizes"][0])
    rows = []
    for code, key in (
        ("after", "fs-mongo"),
        ("before", "ours-mongo"),
        ("after", "ours-mongo"),
        ("after", "ours-mongo-norec"),
    ):
        entry = rt.get(code, {}).get("mongo", {}).get(key)
        if entry is None:
            continue
        row = [entry["label"] + (" — before" if code == "before" else "")]
        for scenario in ("read", "touch", "write"):
            cell = entry["sizes"][size].get(scenario) or {}
            latency = cell.get("latency_us") or {}
            row.append(", ".join(f"{name} {us:,.0f}" for name, us in latency.items()) or "—")
        rows.append(row)
    header = ["setup"] + [
        RT_SCENARIOS[s][0] + ": µs per command" for s in ("read", "touch", "write")
    ]
    return table(header, rows)


def package_split(profile: dict) -> str:
    """cProfile self time per request by package, before and after, per setup and scenario."""
    after, before = profile["after"].get("packages"), profile["before"].get("packages")
    if not after or not before:
        return ""
    names = sorted({name for spent in after.values() for name in spent} - {"whole request"})
    names.append("whole request")
    header = ["package"]
    for run in after:
        setup, scenario = run.split(" ", 1)
        header.append(f"{BY_KEY[setup].label.removeprefix('ours ')}, {scenario}: before → after")
    rows = []
    for name in names:
        row = [name]
        for run in after:
            b, a = before.get(run, {}).get(name, 0.0), after[run].get(name, 0.0)
            row.append(f"{b:,.0f} → {a:,.0f} ({a - b:+,.0f})")
        rows.append(row)
    return table(header, rows)
