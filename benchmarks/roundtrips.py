"""Database round trips per request, counted with pymongo command monitoring.

Each Mongo setup talks to a real wire-protocol server (SecantusDB in its own
process) through a ``pymongo.MongoClient`` carrying a ``CommandListener``.
Start-up commands (index creation) and connection handshakes are not
counted: only the commands sent while serving the measured requests.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from pymongo import MongoClient, monitoring

from .apps import build_app
from .inprocess import SCENARIOS

_HANDSHAKE = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "buildinfo"}


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.failures = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in _HANDSHAKE:
            self.commands[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:  # type: ignore[override]
        self.failures += 1


#: key -> (label, setup, extra MongoStore options)
VARIANTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "fs-mongo": ("Flask-Session MongoDB", "fs-mongo", None),
    "ours-mongo": ("ours MongoStore (defaults)", "ours-mongo", None),
    "ours-mongo-lazy": (
        "ours MongoStore, touch_after=60 s",
        "ours-mongo",
        {"touch_after": timedelta(seconds=60)},
    ),
}


def run(uri: str, variants: list[str], requests: int = 20) -> dict:
    results: dict[str, dict] = {}
    for key in variants:
        label, setup, store_options = VARIANTS[key]
        counter = CommandCounter()
        client: MongoClient[Any] = MongoClient(uri, event_listeners=[counter])
        try:
            app = build_app(setup, client=client, store_options=store_options)
            per_scenario = {}
            for scenario, (_, path) in SCENARIOS.items():
                tester = app.test_client(use_cookies=scenario != "new")
                if scenario != "new":
                    tester.get("/login")
                    tester.get(path)  # the first request after login may differ (e.g. a touch)
                counter.commands.clear()
                for _ in range(requests):
                    response = tester.get(path)
                    assert response.status_code == 200, response.status_code
                total = sum(counter.commands.values())
                per_scenario[scenario] = {
                    "per_request": total / requests,
                    "by_command": {k: v / requests for k, v in sorted(counter.commands.items())},
                }
            results[key] = {"label": label, "scenarios": per_scenario, "failed": counter.failures}
        finally:
            client.close()
    return {"requests": requests, "results": results}
