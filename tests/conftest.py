"""Shared fixtures: an app with server-side sessions and a recording store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time

from flask_sessionstore import MemoryStore, SessionStore
from flask_sessionstore.stores.base import Loaded, StoredSession, Write

SECRET = "keyboard cat"


class RecordingStore(MemoryStore):
    """A MemoryStore that records every call as ``(method, sid)``.

    The request path's calls are recorded under express's names: a load is a
    ``get``, a write a ``set`` and a refresh a ``touch``.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls: list[tuple[str, str]] = []

    def get(self, sid: str) -> StoredSession | None:
        self.calls.append(("get", sid))
        return super().get(sid)

    def load(self, sid: str) -> Loaded | None:
        self.calls.append(("get", sid))
        return super().load(sid)

    def set(self, sid: str, session: StoredSession) -> None:
        self.calls.append(("set", sid))
        super().set(sid, session)

    def write(self, sid: str, write: Write) -> Loaded | None:
        self.calls.append(("set", sid))
        return super().write(sid, write)

    def touch(self, sid: str, session: StoredSession) -> None:
        self.calls.append(("touch", sid))
        super().touch(sid, session)

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        self.calls.append(("touch", sid))
        return super().refresh(sid, write)

    def destroy(self, sid: str) -> None:
        self.calls.append(("destroy", sid))
        super().destroy(sid)

    def methods(self) -> list[str]:
        """The names of the calls so far, then forget them."""
        names = [name for name, _ in self.calls]
        self.calls.clear()
        return names


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore(touch_after=0)  # express touches on every read


@pytest.fixture
def make_app(store: RecordingStore) -> Callable[..., Flask]:
    """Build a testing app with ``SessionStore(app, **options)`` on ``store``."""

    def build(**options: Any) -> Flask:
        app = Flask("test_app")
        app.config.update(SECRET_KEY=SECRET, TESTING=True)
        options.setdefault("store", store)
        SessionStore(app, **options)
        return app

    return build


@pytest.fixture
def advance() -> Iterator[Callable[[float], None]]:
    """Freeze time at now; the fixture is a function advancing it by seconds."""
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        yield lambda seconds: frozen.tick(seconds)
