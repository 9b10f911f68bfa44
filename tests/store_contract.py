"""The store contract: one suite every ``Store`` must pass.

Subclass :class:`StoreContract` in a ``test_*`` module and provide a
``contract_store`` fixture returning a fresh, empty store (itsdangerous-style
reuse by inheritance, so each store provably keeps the base contract).  Time
is frozen with freezegun; ``advance(seconds)`` moves it forward.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from freezegun import freeze_time

from flask_sessionstore import Cookie, Store
from flask_sessionstore.stores.base import StoredSession

Advance = Callable[[float], None]


def stored(max_age: float | None = 60, **data: Any) -> StoredSession:
    """A stored session whose cookie expires ``max_age`` seconds from now."""
    return {"cookie": Cookie(max_age=max_age).to_dict(), **data}


class StoreContract:
    """Behaviour every store keeps (api.md section 5, express's store contract)."""

    @pytest.fixture
    def advance(self) -> Iterator[Advance]:
        with freeze_time(datetime.now(timezone.utc)) as frozen:
            yield lambda seconds: frozen.tick(seconds)

    @pytest.fixture
    def store(self, contract_store: Store, advance: Advance) -> Store:
        # ``advance`` first, so every write happens in frozen time
        return contract_store

    def test_get_missing_returns_none(self, store: Store) -> None:
        assert store.get("missing") is None

    def test_set_then_get_round_trips_json(self, store: Store) -> None:
        session = stored(user="alice", n=1, nested={"a": [1, 2.5, None, True]}, text="é ✓")
        store.set("sid1", session)
        assert store.get("sid1") == session

    def test_plain_session_keeps_express_cookie_form(self, store: Store) -> None:
        session = stored(n=1)
        store.set("sid1", session)
        loaded = store.get("sid1")
        assert loaded is not None
        assert loaded["cookie"]["originalMaxAge"] == 60000
        assert loaded["cookie"]["expires"].endswith("Z")
        assert loaded["cookie"]["httpOnly"] is True

    def test_set_replaces_existing_session(self, store: Store) -> None:
        store.set("sid1", stored(n=1))
        store.set("sid1", stored(n=2))
        loaded = store.get("sid1")
        assert loaded is not None and loaded["n"] == 2

    def test_returned_session_is_a_copy(self, store: Store) -> None:
        store.set("sid1", stored(items=[1]))
        first = store.get("sid1")
        assert first is not None
        first["items"].append(2)
        first["other"] = True
        assert store.get("sid1") == stored(items=[1])

    def test_stored_session_is_a_copy_of_the_argument(self, store: Store) -> None:
        session = stored(items=[1])
        store.set("sid1", session)
        session["items"].append(2)
        loaded = store.get("sid1")
        assert loaded is not None and loaded["items"] == [1]

    def test_destroy_removes_session(self, store: Store) -> None:
        store.set("sid1", stored())
        store.destroy("sid1")
        assert store.get("sid1") is None

    def test_destroy_missing_is_not_an_error(self, store: Store) -> None:
        store.destroy("never-existed")
        assert store.get("never-existed") is None

    def test_expired_session_is_not_returned(self, store: Store, advance: Advance) -> None:
        store.set("sid1", stored(max_age=60))
        advance(59)
        assert store.get("sid1") is not None
        advance(2)
        assert store.get("sid1") is None

    def test_touch_extends_expiry(self, store: Store, advance: Advance) -> None:
        store.set("sid1", stored(max_age=60, n=1))
        advance(50)
        store.touch("sid1", stored(max_age=60, n=1))
        advance(50)
        loaded = store.get("sid1")
        assert loaded is not None and loaded["n"] == 1

    def test_touch_updates_stored_cookie(self, store: Store, advance: Advance) -> None:
        store.set("sid1", stored(max_age=60, n=1))
        advance(30)
        renewed = stored(max_age=60, n=1)
        store.touch("sid1", renewed)
        loaded = store.get("sid1")
        assert loaded is not None
        assert loaded["cookie"]["expires"] == renewed["cookie"]["expires"]

    def test_touch_does_not_create_missing_session(self, store: Store) -> None:
        store.touch("ghost", stored())
        assert store.get("ghost") is None

    def test_touch_does_not_revive_expired_session(self, store: Store, advance: Advance) -> None:
        store.set("sid1", stored(max_age=10))
        advance(11)
        store.touch("sid1", stored(max_age=60))
        assert store.get("sid1") is None

    def test_browser_session_cookie_is_kept(self, store: Store, advance: Advance) -> None:
        session = stored(max_age=None, n=1)
        store.set("sid1", session)
        advance(3600)
        assert store.get("sid1") == session

    def test_all_returns_live_sessions_by_id(self, store: Store, advance: Advance) -> None:
        store.set("short", stored(max_age=10, n=1))
        store.set("long", stored(max_age=100, n=2))
        advance(11)
        sessions = store.all()
        assert set(sessions) == {"long"}
        assert sessions["long"]["n"] == 2

    def test_length_counts_only_live_sessions(self, store: Store, advance: Advance) -> None:
        assert store.length() == 0
        store.set("short", stored(max_age=10))
        store.set("long", stored(max_age=100))
        assert store.length() == 2
        advance(11)
        assert store.length() == 1

    def test_clear_removes_everything(self, store: Store) -> None:
        store.set("a", stored())
        store.set("b", stored())
        store.clear()
        assert store.length() == 0
        assert store.get("a") is None

    def test_prune_removes_expired_sessions(self, store: Store, advance: Advance) -> None:
        store.set("short", stored(max_age=10))
        store.set("long", stored(max_age=100))
        advance(11)
        removed = store.prune()
        assert removed in (0, 1)  # 0 for stores that expire natively (a TTL index)
        assert store.get("short") is None
        assert store.get("long") is not None

    def test_concurrent_writers_lose_nothing(self, store: Store) -> None:
        def write(worker: int) -> None:
            for i in range(25):
                store.set(f"w{worker}-{i}", stored(worker=worker, i=i))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.length() == 200
        loaded = store.get("w7-24")
        assert loaded is not None and loaded["i"] == 24
