"""Profile of our hot path: returning visitor modifying the session, MemoryStore.

Three views are saved in ``benchmarks/profile.txt``: a wall-clock breakdown
of our main steps (timers wrapped around them, no profiler running, for the
modifying and the reading scenario), a cProfile table of
flask_sessionstore's own functions (deterministic, per request, inflated by
the profiler) and pyinstrument's call tree (statistical; where the whole
request's time goes, Flask and Werkzeug included).
"""

from __future__ import annotations

import cProfile
import functools
import importlib
import io
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .apps import build_app

HERE = Path(__file__).resolve().parent
PACKAGE = "flask_sessionstore"


def _client(setup: str = "ours-memory"):  # type: ignore[no-untyped-def]
    app = build_app(setup)
    client = app.test_client()
    client.get("/login")
    for _ in range(300):
        client.get("/write")
    return client


#: (module, class or None, attribute, label) of the steps the breakdown times.  Names
#: of both codes are listed: v1's ``ServerSession._inflate``, ``MemoryStore.get``,
#: ``merge`` and ``touch``; v2's ``SessionState``, ``Tagger``, ``MemoryStore.load``,
#: ``write`` and ``refresh``.  Those a code lacks are skipped.
STEPS = [
    ("interface", "ServerSessionInterface", "open_session", "interface.open_session"),
    ("session", "ServerSession", "_load", "  session load (on first use)"),
    ("state", "SessionState", "_load", "  session load (on first use)"),
    ("stores.memory", "MemoryStore", "get", "    MemoryStore.get / load"),
    ("stores.memory", "MemoryStore", "load", "    MemoryStore.get / load"),
    ("session", "ServerSession", "_inflate", "    inflate / adopt"),
    ("state", "SessionState", "_adopt", "    inflate / adopt"),
    ("session", None, "load_data", "      untagging"),
    ("serialization", "Tagger", "load", "      untagging"),
    ("cookie", "Cookie", "from_dict", "      Cookie.from_dict"),
    ("interface", "ServerSessionInterface", "save_session", "interface.save_session"),
    ("state", "SessionState", "outcome", "  session.outcome (v2)"),
    ("interface", None, "dump_data", "  tagging"),
    ("serialization", "Tagger", "dump", "  tagging"),
    ("interface", None, "stored_form", "  stored_form"),
    ("state", None, "stored_form", "  stored_form"),
    ("cookie", "Cookie", "touch", "  Cookie.touch"),
    ("state", "SessionState", "write", "  session.write (v2)"),
    ("state", "SessionState", "refresh", "  session.refresh (v2)"),
    ("stores.memory", "MemoryStore", "merge", "  MemoryStore.merge / write"),
    ("stores.memory", "MemoryStore", "write", "  MemoryStore.merge / write"),
    ("stores.memory", "MemoryStore", "set", "  MemoryStore.set"),
    ("stores.memory", "MemoryStore", "touch", "  MemoryStore.touch / refresh"),
    ("stores.memory", "MemoryStore", "refresh", "  MemoryStore.touch / refresh"),
    ("interface", None, "vary_on_cookie", "  vary_on_cookie"),
]


def _steps() -> list[tuple[Any, str, str]]:
    """(owner, attribute, label) of the steps of :data:`STEPS` this code has."""
    found = []
    for module_name, class_name, attribute, label in STEPS:
        try:
            module = importlib.import_module(f"{PACKAGE}.{module_name}")
        except ImportError:
            continue
        owner = getattr(module, class_name, None) if class_name else module
        if owner is not None and attribute in vars(owner):
            found.append((owner, attribute, label))
    return found


def breakdown(n: int) -> dict[str, dict[str, float]]:
    """µs per request spent inside each step (inclusive), by scenario."""
    results: dict[str, dict[str, float]] = {}
    for scenario, path in (("modifying", "/write"), ("reading", "/read")):
        spent: dict[str, float] = {}
        originals = []
        for owner, name, label in _steps():
            original = owner.__dict__[name]
            func = (
                original.__func__ if isinstance(original, (classmethod, staticmethod)) else original
            )
            spent.setdefault(label, 0.0)

            def timed(
                *args: Any,
                _f: Callable[..., Any] = func,
                _l: str = label,
                _spent: dict[str, float] = spent,
                **kwargs: Any,
            ) -> Any:
                start = time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    _spent[_l] += time.perf_counter() - start

            wrapper: Any = functools.wraps(func)(timed)
            if isinstance(original, classmethod):
                wrapper = classmethod(wrapper)
            elif isinstance(original, staticmethod):
                wrapper = staticmethod(wrapper)
            originals.append((owner, name, original))
            setattr(owner, name, wrapper)
        try:
            client = _client()
            for label in spent:
                spent[label] = 0.0
            start = time.perf_counter()
            for _ in range(n):
                client.get(path)
            whole = time.perf_counter() - start
            status = client.get(path).status_code
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status} while profiling")
        finally:
            for owner, name, original in originals:
                setattr(owner, name, original)
        results[scenario] = {"whole request": whole / n * 1e6}
        results[scenario].update({k: v / n * 1e6 for k, v in spent.items()})
    return results


#: Where self time is billed in :func:`by_package` (first match of the file path).
PACKAGES = [
    ("flask_sessionstore", f"/{PACKAGE}/"),
    ("mongomock", "/mongomock/"),
    ("bson / pymongo", "/bson/"),
    ("bson / pymongo", "/pymongo/"),
    ("flask / werkzeug", "/flask/"),
    ("flask / werkzeug", "/werkzeug/"),
    ("json", "/json/"),
]


def by_package(setup: str, path: str, n: int) -> dict[str, float]:
    """cProfile's self time per request of ``setup`` on ``path``, summed by package."""
    client = _client(setup)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    spent: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        name = next((label for label, part in PACKAGES if part in filename), "other")
        spent[name] = spent.get(name, 0.0) + tottime / n * 1e6
    spent["whole request"] = sum(spent.values())
    return spent


def run(n: int, path: Path = HERE / "profile.txt") -> dict:
    from pyinstrument import Profiler

    steps = breakdown(n)
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
    out.write("== wall-clock breakdown (µs per request inside each step, inclusive) ==\n\n")
    out.write(f"{'step':40s} {'modifying':>10} {'reading':>10}\n")
    for label in steps["modifying"]:
        out.write(
            f"{label:40s} {steps['modifying'][label]:10.1f} "
            f"{steps['reading'].get(label, 0.0):10.1f}\n"
        )
    out.write("\n== flask_sessionstore functions (cProfile; µs per request, profiler overhead")
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
    packages = {
        f"{setup} {scenario}": by_package(setup, url, max(n // 3, 100))
        for setup in ("ours-memory", "ours-mongo")
        for scenario, url in (("modifying", "/write"), ("reading", "/read"))
    }
    return {
        "n": n,
        "packages": packages,
        "request_us_under_cprofile": total,
        "ours": ours[:15],
        "steps": steps,
        "file": path.name,
    }


def main() -> None:
    """``python -m benchmarks.profile N PATH``: run in a child (either code), print JSON."""
    from .codebase import loaded_code

    result = run(int(sys.argv[1]), Path(sys.argv[2]))
    result["code"] = loaded_code()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
