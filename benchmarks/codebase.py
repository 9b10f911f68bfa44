"""Which flask_sessionstore a benchmark process runs: this tree ("after") or v1 ("before").

"Before" is commit :data:`BEFORE` (the v1 code on ``main``), exported with
``git archive`` into ``benchmarks/.work/before-<commit>/`` (git-ignored) and
put first on ``sys.path`` of the child processes that measure it: the
``BENCH_CODE`` environment variable, read by ``benchmarks/__init__.py``
before anything imports ``flask_sessionstore``.  The same benchmark modules
(apps, scenarios, load generator) then run against both codes in one run,
each child reporting which package it really imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(__file__).resolve().parent / ".work"

#: The v1 code on ``main``: what "before" means in every table.
BEFORE = "e912a68"
CODES = ("after", "before")


def before_dir() -> Path:
    return WORK / f"before-{BEFORE}"


def prepare_before() -> Path:
    """Export the v1 package into ``.work/before-<commit>/`` (once) and return that folder."""
    target = before_dir()
    if (target / "flask_sessionstore" / "__init__.py").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE, "flask_sessionstore"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True, timeout=60)
    return target


def env_for(code: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process that must run ``code`` ("after" or "before")."""
    env = {**os.environ, **(extra or {})}
    env.pop("BENCH_CODE", None)
    if code == "before":
        env["BENCH_CODE"] = str(before_dir())
    elif code != "after":
        raise ValueError(f"code must be one of {CODES}, not {code!r}")
    return env


def loaded_code() -> str:
    """Where the running process imported flask_sessionstore from ("after" or "before")."""
    import flask_sessionstore

    path = Path(flask_sessionstore.__file__).resolve()
    return "before" if before_dir().resolve() in path.parents else "after"


def run_child(
    code: str,
    module: str,
    args: Sequence[str] = (),
    *,
    timeout: float = 900,
    extra_env: Mapping[str, str] | None = None,
) -> dict:
    """``python -m benchmarks.<module> args`` on ``code``; the JSON of its last stdout line.

    The child's stderr (progress lines) passes through to ours.
    """
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=True,
        cwd=ROOT,
        env=env_for(code, extra_env),
    )
    result: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    if result.get("code") not in (None, code):
        raise RuntimeError(f"benchmarks.{module} ran {result.get('code')} code, not {code}")
    return result
