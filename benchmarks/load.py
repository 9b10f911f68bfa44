"""Bounded load test: gunicorn (1 worker: gthread with 4 threads, or gevent) and wrk on 127.0.0.1.

Each run names a setup, the code it runs ("after" or "before", see
:mod:`benchmarks.codebase`) and gunicorn's worker class.

Every wrk connection runs in its own wrk thread and keeps its own session:
it sends ``GET /write`` (returning visitor modifying: the counter goes up by
one), picks up whatever ``Set-Cookie`` the server sends and counts its 2xx
responses.  After the run the server's counter of each session is read back
with ``GET /count`` and compared with the responses that connection saw:
a counter below that is a lost write.  One request may be in flight when wrk
stops, so a counter one above is fine.

Without wrk (and without root to install it), a small threaded Python load
generator with the same logic is used instead, and the results say so.
"""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .inprocess import unit_id
from .servers import WORK, gunicorn

CONNECTIONS = 4
THREADS = 4

LUA = r"""
cookie = nil
responses = 0
last = -1
bad = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  if cookie then
    return wrk.format("GET", "/write", {["Cookie"] = cookie})
  end
  return wrk.format("GET", "/write")
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    return
  end
  local set_cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if set_cookie then
    cookie = string.match(set_cookie, "^[^;]+")
  end
  responses = responses + 1
  last = tonumber(body) or -1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SUMMARY %d %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
  for _, t in ipairs(threads) do
    io.write(string.format("SESSION %d %d %d %s\n",
      t:get("responses"), t:get("last"), t:get("bad"), t:get("cookie") or "-"))
  end
end
"""


def ensure_wrk(log: Callable[[str], None]) -> str | None:
    """The path of wrk; installs Debian's package when root and it is missing."""
    path = shutil.which("wrk")
    if path or os.geteuid() != 0 or not shutil.which("apt-get"):
        return path
    log("  wrk is missing: installing Debian's wrk package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        if not _apt_has_wrk():
            subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=180, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env=env,
            timeout=180,
            check=False,
            stdout=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None
    return shutil.which("wrk")


def _apt_has_wrk() -> bool:
    out = subprocess.run(
        ["apt-cache", "policy", "wrk"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    return "Candidate:" in out and "Candidate: (none)" not in out


def _count(url: str, cookie: str) -> int:
    request = urllib.request.Request(url + "/count", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.read())


def _wrk(wrk: str, url: str, seconds: float) -> dict:
    script = WORK / "counter.lua"
    script.write_text(LUA)
    proc = subprocess.run(
        [
            wrk,
            f"-t{CONNECTIONS}",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url + "/write",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    summary: list[int] = []
    sessions = []
    for line in proc.stdout.splitlines():
        if line.startswith("SUMMARY "):
            summary = [int(x) for x in line.split()[1:]]
        elif line.startswith("SESSION "):
            responses, last, bad, cookie = line.split(maxsplit=4)[1:]
            sessions.append(
                {
                    "responses": int(responses),
                    "last": int(last),
                    "bad": int(bad),
                    "cookie": None if cookie == "-" else cookie,
                }
            )
    requests, duration, connect, read, write, status, timeout, p50, p99, worst = summary
    return {
        "requests": requests,
        "rps": requests / (duration / 1e6),
        "socket_errors": connect + read + write + timeout,
        "non_2xx": status,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": worst / 1000,
        "sessions": sessions,
    }


def _python_load(url: str, seconds: float) -> dict:
    """A threaded fallback for wrk: one connection and one session per thread."""
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(CONNECTIONS)]
    sessions = [{"responses": 0, "last": -1, "bad": 0, "cookie": None} for _ in range(CONNECTIONS)]
    errors = [0] * CONNECTIONS

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        state = sessions[i]
        while time.monotonic() < deadline:
            headers = {"Cookie": state["cookie"]} if state["cookie"] else {}
            start = time.perf_counter()
            try:
                conn.request("GET", "/write", headers=headers)
                response = conn.getresponse()
                body = response.read()
            except OSError:
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                continue
            latencies[i].append(time.perf_counter() - start)
            if not 200 <= response.status < 300:
                state["bad"] += 1
                continue
            set_cookie = response.getheader("Set-Cookie")
            if set_cookie:
                state["cookie"] = set_cookie.split(";", 1)[0]
            state["responses"] += 1
            state["last"] = int(body)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - started
    every = sorted(x for per in latencies for x in per)
    return {
        "requests": len(every),
        "rps": len(every) / elapsed,
        "socket_errors": sum(errors),
        "non_2xx": sum(s["bad"] for s in sessions),
        "p50_ms": every[len(every) // 2] * 1000 if every else 0.0,
        "p99_ms": every[int(len(every) * 0.99)] * 1000 if every else 0.0,
        "max_ms": every[-1] * 1000 if every else 0.0,
        "sessions": sessions,
    }


@dataclass(frozen=True)
class LoadRun:
    """One setup under gunicorn: which app, on which code, with which worker class."""

    key: str
    code: str = "after"
    worker: str = "gthread"

    @property
    def id(self) -> str:
        return f"{unit_id(self.code, self.key)}|{self.worker}"


def _one(
    run: LoadRun,
    mongo_uri: str | None,
    redis_url: str | None,
    seconds: float,
    warmup: float,
    generate,  # type: ignore[no-untyped-def]
) -> dict:
    env = {
        "BENCH_SETUP": run.key,
        "BENCH_MONGO_URI": mongo_uri or "",
        "BENCH_REDIS_URL": redis_url or "",
    }
    with gunicorn(env, worker=run.worker, code=run.code) as url:
        if warmup:
            generate(url, warmup)
        result: dict = generate(url, seconds)
        lost = extra = unchecked = 0
        for state in result["sessions"]:
            if run.key == "none":
                continue
            if not state["cookie"]:
                unchecked += state["responses"]
                continue
            server = _count(url, state["cookie"])
            state["server_count"] = server
            lost += max(0, state["responses"] - server)
            extra += max(0, server - state["responses"] - 1)
    result.update(lost=lost, extra=extra, unchecked=unchecked)
    return result


def run(
    runs: list[LoadRun],
    mongo_uri: str | None,
    redis_url: str | None,
    seconds: float,
    warmup: float,
    passes: int,
    log: Callable[[str], None],
) -> dict:
    """``passes`` rounds over ``runs`` (in reverse order every other round)."""
    wrk = ensure_wrk(log)
    tool = "wrk" if wrk else "python"
    if not wrk:
        log("  wrk unavailable: using the threaded Python load generator")

    def generate(url: str, duration: float) -> dict:
        return _wrk(wrk, url, duration) if wrk else _python_load(url, duration)

    done: dict[str, list[dict]] = {r.id: [] for r in runs}
    for number in range(passes):
        order = runs if number % 2 == 0 else runs[::-1]
        for entry in order:
            result = _one(entry, mongo_uri, redis_url, seconds, warmup, generate)
            done[entry.id].append(result)
            log(
                f"  {entry.id:32s} {result['rps']:7.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
                f"p99 {result['p99_ms']:6.2f} ms  errors {result['socket_errors']}"
                f"+{result['non_2xx']}  lost {result['lost']}"
            )
    results = {}
    for entry in runs:
        measured = done[entry.id]
        results[entry.id] = {
            "key": entry.key,
            "code": entry.code,
            "worker": entry.worker,
            "rps": statistics.median(r["rps"] for r in measured),
            "rps_runs": [r["rps"] for r in measured],
            "p50_ms": statistics.median(r["p50_ms"] for r in measured),
            "p99_ms": statistics.median(r["p99_ms"] for r in measured),
            "requests": sum(r["requests"] for r in measured),
            **{
                k: sum(r[k] for r in measured)
                for k in ("socket_errors", "non_2xx", "lost", "extra", "unchecked")
            },
        }
        results[entry.id]["ok"] = all(
            results[entry.id][k] == 0
            for k in ("socket_errors", "non_2xx", "lost", "extra", "unchecked")
        )
    return {
        "tool": tool,
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds": seconds,
        "warmup": warmup,
        "passes": passes,
        "results": results,
    }
