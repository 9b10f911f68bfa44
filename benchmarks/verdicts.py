"""The targets of the issues and their verdicts, from the raw results.

Each target is ``(issue, target, evidence, verdict)``; the verdict is True
(met), False (not met) or None (not measured, the evidence says why).
Before/after comparisons of timings allow :data:`NOISE` (the 2-core machine
moves single figures by more than that; the ratios are medians of per-round
ratios, which are steadier): a ratio up to ``1 + NOISE`` is reported as
"within noise", never as met.
"""

from __future__ import annotations

from typing import Any

from .apps import BY_KEY
from .inprocess import SCENARIOS, corrected_ratio, ratio

NOISE = 0.03
Verdict = tuple[str, str, str, Any]

ISSUE5 = "issue 5"
BEFORE_AFTER = "before/after"
DEPLOY = "Trustworthy in every deployment shape"
RECORDS = "Session records and account control"
REDIS = "RedisStore"


def _commands(cell: dict) -> str:
    return ", ".join(f"{v:g} {k}" for k, v in cell["by_command"].items())


def _timing(value: float, limit: float = 1.0) -> Any:
    if value <= limit:
        return True
    return "noise" if value <= limit * (1 + NOISE) else False


def issue5(results: dict) -> list[Verdict]:
    out: list[Verdict] = []
    inproc = results.get("inprocess")
    if inproc:
        over = inproc["overhead"]
        for peer, factor in (("fs-simplecache", 0.5), ("cookie", 0.25)):
            for scenario, (name, _) in SCENARIOS.items():
                ours, other = over[scenario].get("ours-memory"), over[scenario].get(peer)
                if ours is None or other is None:
                    continue
                out.append(
                    (
                        ISSUE5,
                        f"MemoryStore overhead ≤ {factor:g} x {BY_KEY[peer].label}'s ({name})",
                        f"{ours:.1f} µs vs {other:.1f} µs (limit {factor * other:.1f} µs)",
                        ours <= factor * other,
                    )
                )
        for ours, theirs, what in (
            (
                "ours-mongo",
                "fs-mongo",
                "MongoStore on mongomock no slower than Flask-Session MongoDB",
            ),
            ("ours-redis", "fs-redis", "RedisStore no slower than Flask-Session Redis"),
        ):
            if ours not in inproc["units"] or theirs not in inproc["units"]:
                continue
            for scenario, (name, _) in SCENARIOS.items():
                r = ratio(inproc, scenario, ours, theirs)
                assert r is not None
                med = inproc["median"][scenario]
                out.append(
                    (
                        ISSUE5 if "Mongo" in what else REDIS,
                        f"{what} ({name})",
                        f"{med[ours]:.1f} µs vs {med[theirs]:.1f} µs per request (ratio {r:.2f})",
                        _timing(r),
                    )
                )
    rt = results.get("roundtrips")
    if rt:
        first = str(rt["after"]["sizes"][0])
        mongo = rt["after"].get("mongo", {})
        if "ours-mongo" in mongo and "fs-mongo" in mongo:
            ours = mongo["ours-mongo"]["sizes"][first]["read"]["per_request"]
            other = mongo["fs-mongo"]["sizes"][first]["read"]["per_request"]
            out.append(
                (
                    ISSUE5,
                    "MongoStore strictly fewer round trips than Flask-Session, reader (defaults)",
                    f"{ours:g} vs {other:g} per request",
                    ours < other,
                )
            )
    load = results.get("load")
    if load:
        bad = [run_id for run_id, r in load["results"].items() if not r["ok"]]
        out.append(
            (
                ISSUE5,
                "Nothing lost or errored under load (0 errors, 0 lost writes, every run)",
                "all clean" if not bad else "problems in: " + ", ".join(bad),
                not bad,
            )
        )
    return out


def before_after(results: dict) -> list[Verdict]:
    out: list[Verdict] = []
    inproc = results.get("inprocess")
    if inproc:
        for key in ("ours-memory", "ours-mongo"):
            if f"{key}@before" not in inproc["units"]:
                continue
            for scenario, (name, _) in SCENARIOS.items():
                r = ratio(inproc, scenario, key, f"{key}@before")
                c = corrected_ratio(inproc, scenario, key)
                assert r is not None
                assert c is not None
                med = inproc["median"][scenario]
                out.append(
                    (
                        BEFORE_AFTER,
                        f"{BY_KEY[key].label} in process no slower than before ({name})",
                        f"{med[f'{key}@before']:.1f} → {med[key]:.1f} µs/req "
                        f"(after/before {r:.2f}; {c:.2f} against the no-session ratio)",
                        _timing(c),
                    )
                )
    load = results.get("load")
    if load:
        for r in load["results"].values():
            if r["code"] != "before":
                continue
            after = load["results"].get(f"{r['key']}|{r['worker']}")
            if after is None:
                continue
            q = r["rps"] / after["rps"]
            out.append(
                (
                    BEFORE_AFTER,
                    f"{BY_KEY[r['key']].label} under gunicorn {r['worker']} no slower than before",
                    f"{r['rps']:,.0f} → {after['rps']:,.0f} req/s (after/before "
                    f"{after['rps'] / r['rps']:.2f})",
                    _timing(q),
                )
            )
    return out


def deployment(results: dict) -> list[Verdict]:
    out: list[Verdict] = []
    rt = results.get("roundtrips")
    if not rt:
        return out
    mongo = rt["after"].get("mongo", {})
    first = str(rt["after"]["sizes"][0])
    if "ours-mongo" in mongo:
        cell = mongo["ours-mongo"]["sizes"][first]["read"]
        out.append(
            (
                DEPLOY,
                "MongoStore reader: 1 round trip with defaults (steady state)",
                f"{cell['per_request']:g} per request ({_commands(cell)})",
                cell["per_request"] <= 1,
            )
        )
        for size, cells in mongo["ours-mongo"]["sizes"].items():
            write = cells.get("write")
            if write is None:
                continue
            from .tables import size_label

            if write["errors"] or write.get("value_size") is None:
                out.append(
                    (
                        DEPLOY,
                        f"MongoStore bytes per write ≤ new value + 1 KB "
                        f"({size_label(size)} session)",
                        "; ".join(write["errors"]) or "value size unknown",
                        False,
                    )
                )
                continue
            over = write["sent"] - write["value_size"]
            out.append(
                (
                    DEPLOY,
                    f"MongoStore bytes per write ≤ new value + 1 KB ({size_label(size)} session)",
                    f"{write['sent']:,.0f} B sent for a {write['value_size']:,d} B value "
                    f"({over:,.0f} B over)",
                    over <= 1024,
                )
            )
    return out


def records(results: dict) -> list[Verdict]:
    out: list[Verdict] = []
    inproc = results.get("inprocess")
    if inproc:
        for on in ("ours-memory", "ours-redis", "ours-mongo"):
            off = f"{on}-norec"
            if off not in inproc["units"]:
                continue
            for scenario in ("read", "write"):
                r = ratio(inproc, scenario, on, off)
                assert r is not None
                out.append(
                    (
                        RECORDS,
                        f"Records cost ≤ +5 % per request: {BY_KEY[on].label} "
                        f"({SCENARIOS[scenario][0]})",
                        f"{(r - 1) * 100:+.1f} % (on/off {r:.3f})",
                        r <= 1.05,
                    )
                )
    rt = results.get("roundtrips")
    if rt:
        first = str(rt["after"]["sizes"][0])
        for family, on in (("mongo", "ours-mongo"), ("redis", "ours-redis")):
            entries = rt["after"].get(family, {})
            if on not in entries or f"{on}-norec" not in entries:
                continue
            a, b = entries[on]["sizes"][first], entries[f"{on}-norec"]["sizes"][first]
            pairs = {s: (a[s]["per_request"], b[s]["per_request"]) for s in a if s in b}
            same = all(x == y for x, y in pairs.values())
            out.append(
                (
                    RECORDS,
                    f"Records add no round trip: {BY_KEY[on].label}",
                    ", ".join(f"{s} {x:g}/{y:g}" for s, (x, y) in pairs.items()),
                    same,
                )
            )
    owners = results.get("owners")
    if owners:
        for store, res in owners.items():
            if "skipped" in res:
                out.append(
                    (RECORDS, f"sessions_of / revoke_user flat: {store}", res["skipped"], None)
                )
                continue
            rows = res["results"]
            if len(rows) < 2:
                continue
            first, last = rows[0], rows[-1]
            worst = max(
                last["sessions_of_ms"] / first["sessions_of_ms"],
                last["revoke_user_ms"] / first["revoke_user_ms"],
            )
            evidence = (
                f"{first['sessions']:,d} → {last['sessions']:,d} sessions: sessions_of "
                f"{first['sessions_of_ms']:.2f} → {last['sessions_of_ms']:.2f} ms, revoke_user "
                f"{first['revoke_user_ms']:.2f} → {last['revoke_user_ms']:.2f} ms "
                f"(worst growth x{worst:.1f}; flat: ≤ x2)"
            )
            if res.get("note"):
                evidence += f"; {res['note']}"
            out.append((RECORDS, f"sessions_of / revoke_user flat: {store}", evidence, worst <= 2))
    return out


def redis(results: dict) -> list[Verdict]:
    out: list[Verdict] = []
    rt = results.get("roundtrips")
    if not rt:
        return out
    entries = rt["after"].get("redis", {})
    if "ours-redis" not in entries:
        return out
    first = str(rt["after"]["sizes"][0])
    cells = entries["ours-redis"]["sizes"][first]
    for scenario, limit in (("read", 1), ("write", 2)):
        cell = cells[scenario]
        out.append(
            (
                REDIS,
                f"RedisStore {'reader' if scenario == 'read' else 'writer'}: {limit} "
                f"command{'s' if limit > 1 else ''} per request (steady state)",
                f"{cell['per_request']:g} ({_commands(cell)})",
                cell["per_request"] <= limit,
            )
        )
    return out


def targets(results: dict) -> list[Verdict]:
    return (
        before_after(results)
        + deployment(results)
        + records(results)
        + redis(results)
        + issue5(results)
    )


def verdict_text(met: Any) -> str:
    return {
        True: "met",
        False: "**not met**",
        None: "not measured",
        "noise": "within noise (≤ 3 %)",
    }[met]
