"""Round trips, commands and bytes per request against real servers.

MongoDB side: each setup talks to SecantusDB (a MongoDB wire-protocol server
in its own process) through a ``pymongo.MongoClient`` carrying a
``CommandListener``.  Per request it counts the commands sent (round trips)
and the bytes on the wire as BSON: the size of each command document sent
and of each reply received.  Start-up commands (index creation) and
connection handshakes are not counted.

Redis side: each setup's ``redis.Redis`` uses a connection class that counts
the commands it sends and their bytes (the RESP encoding), the same way.

Scenarios, after a warm-up request that reaches the steady state:

* ``new``: a new visitor whose view never touches the session;
* ``read``: a returning **reader** in steady state;
* ``touch``: a **toucher**: a read-only request whose expiry is due (the
  stored expiry was moved :data:`SHIFT` back before each request, by a
  separate, uncounted client, as if that long had passed);
* ``write``: a returning **writer** (changes the counter).

Each runs at several session sizes (``/login?size=N``).  MongoDB cells also
carry each command's client-observed latency (pymongo's ``duration_micros``,
median), which shows where a store's time goes on the server.  Both families
drop what they wrote at the end, so later sections start clean.  For the writer the
size of the stored value after the write is read back, so the bytes a write
sends can be compared with the value it stores.

``python -m benchmarks.roundtrips ARGS`` runs in a child process (the
"before" code runs there) and prints the results as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
from collections import Counter
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import bson
from pymongo import MongoClient, monitoring

from .apps import DB_NAME, build_app

_HANDSHAKE = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "buildinfo"}
_STARTUP = {"createIndexes", "listIndexes"}
#: How far back the stored expiry is moved before a toucher's request.
SHIFT = timedelta(hours=6)
SCENARIOS = {
    "new": ("new visitor, untouched", "/"),
    "read": ("reader (steady state)", "/read"),
    "touch": ("toucher (expiry due)", "/read"),
    "write": ("writer", "/write"),
}


class Tally:
    """Commands, bytes sent and bytes received, by command name."""

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        #: client-observed latency of each MongoDB command, µs, by name
        self.latencies: dict[str, list[float]] = {}
        self.sent = 0
        self.received = 0
        self.failures = 0
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.commands.clear()
            self.latencies = {}
            self.sent = self.received = self.failures = 0


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.tally = Tally()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _HANDSHAKE or event.command_name in _STARTUP:
            return
        size = len(bson.encode(event.command))
        with self.tally.lock:
            self.tally.commands[event.command_name] += 1
            self.tally.sent += size

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name in _HANDSHAKE or event.command_name in _STARTUP:
            return
        size = len(bson.encode(event.reply))
        with self.tally.lock:
            self.tally.received += size
            self.tally.latencies.setdefault(event.command_name, []).append(event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:  # type: ignore[override]
        with self.tally.lock:
            self.tally.failures += 1


def session_id(client: Any) -> str:
    """The session ID in a test client's one cookie (signed or not)."""
    cookies = [c for c in client._cookies.values() if c.key != "Vary"]
    value = unquote(cookies[-1].value)
    if value.startswith("s:"):
        value = value[2:].rsplit(".", 1)[0]
    return value


#: key -> (label, setup, extra store options)
MONGO_VARIANTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "fs-mongo": ("Flask-Session MongoDB", "fs-mongo", None),
    "ours-mongo": ("ours MongoStore (defaults)", "ours-mongo", None),
    "ours-mongo-norec": ("ours MongoStore, records off", "ours-mongo-norec", None),
    "ours-mongo-lazy": (
        "ours MongoStore, touch_after=60 s",
        "ours-mongo",
        {"touch_after": timedelta(seconds=60)},
    ),
}
REDIS_VARIANTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "fs-redis": ("Flask-Session Redis", "fs-redis", None),
    "ours-redis": ("ours RedisStore (defaults)", "ours-redis", None),
    "ours-redis-norec": ("ours RedisStore, records off", "ours-redis-norec", None),
}


def _measure(
    app: Any,
    tally: Tally,
    sizes: list[int],
    requests: dict[int, int],
    shift: Any,
    stored_size: Any,
) -> dict:
    """Every scenario at every size: per-request commands and bytes."""
    out: dict[str, dict] = {}
    for size in sizes:
        per_scenario = {}
        for scenario, (_, path) in SCENARIOS.items():
            if scenario == "new" and size != sizes[0]:
                continue  # no session: the size does not matter
            tester = app.test_client(use_cookies=scenario != "new")
            if scenario != "new":
                tester.get(f"/login?size={size}")
                if scenario == "touch":
                    shift(session_id(tester))
                tester.get(path)  # the first request after login may differ (e.g. a touch)
            count = requests[size]
            total = Counter[str]()
            latencies: dict[str, list[float]] = {}
            sent = received = failures = 0
            errors = []
            for _ in range(count):
                if scenario == "touch":
                    shift(session_id(tester))
                tally.clear()
                try:
                    response = tester.get(path)
                    if response.status_code != 200:
                        errors.append(f"HTTP {response.status_code}")
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
                with tally.lock:
                    total.update(tally.commands)
                    for name, values in tally.latencies.items():
                        latencies.setdefault(name, []).extend(values)
                    sent += tally.sent
                    received += tally.received
                    failures += tally.failures
            cell: dict[str, Any] = {
                "requests": count,
                "per_request": sum(total.values()) / count,
                "by_command": {k: v / count for k, v in sorted(total.items())},
                "sent": sent / count,
                "received": received / count,
                "latency_us": {k: statistics.median(v) for k, v in sorted(latencies.items())},
                "failures": failures,
                "errors": sorted(set(errors)),
            }
            if scenario == "write" and not errors:
                cell["value_size"] = stored_size(session_id(tester))
            per_scenario[scenario] = cell
        out[str(size)] = per_scenario
    return out


def run_mongo(uri: str, variants: list[str], sizes: list[int], requests: dict[int, int]) -> dict:
    admin: MongoClient[Any] = MongoClient(uri)  # uncounted: the toucher's clock and read-back
    results: dict[str, dict] = {}
    try:
        for key in variants:
            label, setup, options = MONGO_VARIANTS[key]
            counter = CommandCounter()
            client: MongoClient[Any] = MongoClient(uri, event_listeners=[counter])
            ours = admin[DB_NAME]["sessions"]
            theirs = admin["flask_session"]["sessions"]

            def shift(sid: str, _ours: Any = ours) -> None:
                doc = _ours.find_one({"_id": sid}, {"expires": 1})
                if doc is not None:
                    _ours.update_one({"_id": sid}, {"$set": {"expires": doc["expires"] - SHIFT}})

            def stored_size(sid: str, _ours: Any = ours, _theirs: Any = theirs) -> int | None:
                doc = _ours.find_one({"_id": sid}, {"session": 1})
                if doc is not None:
                    value = doc["session"]
                else:
                    doc = _theirs.find_one({"id": "session:" + sid}, {"val": 1})
                    value = None if doc is None else doc["val"]
                if value is None:
                    return None
                return len(value.encode() if isinstance(value, str) else value)

            try:
                app = build_app(setup, client=client, store_options=options)
                results[key] = {
                    "label": label,
                    "sizes": _measure(
                        app,
                        counter.tally,
                        sizes,
                        requests,
                        shift if key != "fs-mongo" else (lambda sid: None),
                        stored_size,
                    ),
                }
            finally:
                client.close()
    finally:
        # Leave nothing behind: Flask-Session finds sessions by an unindexed
        # "id", so big documents left here would slow its later load test.
        admin.drop_database(DB_NAME)
        admin.drop_database("flask_session")
        admin.close()
    return results


def run_redis(url: str, variants: list[str], sizes: list[int], requests: dict[int, int]) -> dict:
    import redis

    tally = Tally()

    class Counting(redis.Connection):
        """Counts the commands this connection sends and their RESP bytes."""

        def _count(self, args: Any) -> None:
            name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            size = sum(len(chunk) for chunk in self._command_packer.pack(*args))
            with tally.lock:
                tally.commands[name.split()[0].upper()] += 1
                tally.sent += size

        def send_command(self, *args: Any, **kwargs: Any) -> None:
            self._count(args)
            super().send_command(*args, **kwargs)

        def pack_commands(self, commands: Any) -> Any:
            commands = list(commands)  # a pipeline: every command in it counts
            for args in commands:
                self._count(args)
            return super().pack_commands(commands)

    admin = redis.Redis.from_url(url)
    results: dict[str, dict] = {}
    try:
        for key in variants:
            label, setup, options = REDIS_VARIANTS[key]
            pool = redis.ConnectionPool.from_url(url, connection_class=Counting)
            client = redis.Redis(connection_pool=pool)

            def shift(sid: str, _setup: str = setup) -> None:
                name = ("session:" if _setup == "fs-redis" else "sess:") + sid
                left = admin.pttl(name)
                if left > 0 and _setup != "fs-redis":
                    admin.pexpire(name, max(1000, left - int(SHIFT.total_seconds() * 1000)))

            def stored_size(sid: str, _setup: str = setup) -> int | None:
                name = ("session:" if _setup == "fs-redis" else "sess:") + sid
                return admin.strlen(name) or None

            try:
                app = build_app(setup, client=client, store_options=options)
                results[key] = {
                    "label": label,
                    "sizes": _measure(app, tally, sizes, requests, shift, stored_size),
                }
            finally:
                pool.disconnect()
    finally:
        admin.flushdb()  # leave nothing behind for the next section
        admin.close()
    return results


def main() -> None:
    from .codebase import loaded_code

    parser = argparse.ArgumentParser()
    parser.add_argument("--mongo-uri")
    parser.add_argument("--mongo", default="", help="comma-separated Mongo variants")
    parser.add_argument("--redis-url")
    parser.add_argument("--redis", default="", help="comma-separated Redis variants")
    parser.add_argument("--sizes", default="1024", help="comma-separated session sizes")
    parser.add_argument("--requests", default="20", help="requests per size, comma-separated")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    counts = [int(x) for x in args.requests.split(",")]
    requests = {size: counts[min(i, len(counts) - 1)] for i, size in enumerate(sizes)}
    result: dict[str, Any] = {"code": loaded_code(), "sizes": sizes, "requests": requests}
    if args.mongo:
        result["mongo"] = run_mongo(args.mongo_uri, args.mongo.split(","), sizes, requests)
    if args.redis:
        result["redis"] = run_redis(args.redis_url, args.redis.split(","), sizes, requests)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
