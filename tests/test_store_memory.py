"""MemoryStore: the store contract, plus reclamation and its own promises."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from flask_sessionstore import MemoryStore, SessionStore, SessionTooLargeError, Store
from flask_sessionstore.stores.base import Loaded, Write
from tests.records_contract import SessionStoreContract
from tests.store_contract import Advance, stored


class TestMemoryStoreContract(SessionStoreContract):
    @pytest.fixture
    def contract_store(self) -> Store:
        return MemoryStore()


def test_expired_sessions_are_reclaimed_without_being_read(advance: Advance) -> None:
    store = MemoryStore()
    for i in range(100):
        store.set(f"old{i}", stored(max_age=10))
    advance(11)
    store.set("new", stored(max_age=10))  # any later call reclaims what is due
    assert set(store._entries) == {"new"}
    assert len(store._heap) == 1


def test_touched_session_keeps_one_heap_slot(advance: Advance) -> None:
    store = MemoryStore()
    store.set("sid", stored(max_age=10))
    for _ in range(50):
        advance(5)
        store.touch("sid", stored(max_age=10))
    assert len(store._heap) == 1
    assert store.get("sid") is not None


def test_shortened_expiry_is_honoured(advance: Advance) -> None:
    store = MemoryStore()
    store.set("sid", stored(max_age=100))
    store.set("sid", stored(max_age=10))
    advance(11)
    assert store.prune() == 1
    assert store.get("sid") is None


def test_browser_session_cookies_expire_after_ttl(advance: Advance) -> None:
    store = MemoryStore(ttl=timedelta(hours=1))
    store.set("sid", stored(max_age=None))
    advance(3599)
    assert store.get("sid") is not None
    advance(2)
    assert store.get("sid") is None


def test_touch_renews_ttl_of_browser_session(advance: Advance) -> None:
    store = MemoryStore(ttl=100)
    store.set("sid", stored(max_age=None))
    advance(90)
    store.touch("sid", stored(max_age=None))
    advance(90)
    assert store.get("sid") is not None


def test_touch_replaces_only_the_cookie() -> None:
    store = MemoryStore()
    store.set("sid", stored(n=1))
    store.touch("sid", stored(n=999))
    loaded = store.get("sid")
    assert loaded is not None and loaded["n"] == 1


@pytest.mark.parametrize("ttl", [0, -1, "1h", None])
def test_bad_ttl_is_rejected(ttl: object) -> None:
    with pytest.raises((TypeError, ValueError), match="ttl"):
        MemoryStore(ttl=ttl)  # type: ignore[arg-type]


def test_unserializable_session_is_rejected_before_writing() -> None:
    store = MemoryStore()
    with pytest.raises((TypeError, ValueError)):
        store.set("sid", stored(bad=float("nan")))
    assert store.get("sid") is None


def _production_app() -> Flask:
    app = Flask("prod")
    app.config["SECRET_KEY"] = "s"
    return app


def test_warns_once_outside_debug_and_testing() -> None:
    store = MemoryStore()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SessionStore(_production_app(), store=store)
        SessionStore(_production_app(), store=store)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1
    assert "MemoryStore" in messages[0]


def test_no_warning_in_testing() -> None:
    app = _production_app()
    app.testing = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SessionStore(app)


def test_mass_expiry_is_reclaimed_in_bounded_batches(
    advance: Advance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_sessionstore.stores import memory

    monkeypatch.setattr(memory, "RECLAIM_BATCH", 10)
    store = MemoryStore()
    for i in range(35):
        store.set(f"old{i}", stored(max_age=10))
    advance(11)
    assert store.get("old0") is None  # expired entries are invisible at once
    assert store.length() == 0
    assert len(store._entries) == 35 - 20  # ...but each call reclaims at most 10
    assert store.prune() == 15  # prune reclaims everything that is due
    assert store._entries == {}


def _write(store: MemoryStore, sid: str, base: Loaded | None, **changes: Any) -> Loaded | None:
    """One request's save: ``changes`` applied to what it loaded (``None`` removes a key)."""
    data = {} if base is None else base.data
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    old = {} if base is None else base.data
    return store.write(
        sid,
        Write(
            session=stored(**data),
            base=base,
            changed=tuple(k for k, v in data.items() if old.get(k, object()) != v),
            removed=tuple(k for k in old if k not in data),
        ),
    )


def test_write_merges_onto_a_concurrent_write_keeping_both_keys() -> None:
    store = MemoryStore()
    store.set("sid", stored(a=1, b=1))
    mine = store.load("sid")  # this request loads...
    theirs = store.load("sid")
    _write(store, "sid", theirs, b=2)  # ...another one writes b...
    _write(store, "sid", mine, a=2)  # ...and our a is merged onto it
    merged = store.get("sid")
    assert merged is not None
    assert (merged["a"], merged["b"]) == (2, 2)


def test_write_without_concurrent_write_stores_the_session() -> None:
    store = MemoryStore()
    store.set("sid", stored(a=1, gone=True))
    loaded = store.load("sid")
    result = _write(store, "sid", loaded, a=5, gone=None)
    assert result is not None
    assert store.get("sid") == {"cookie": result.session["cookie"], "a": 5}


def test_write_of_a_destroyed_session_is_dropped() -> None:
    store = MemoryStore()
    store.set("sid", stored(user="alice"))
    loaded = store.load("sid")
    store.destroy("sid")  # a logout in another tab
    assert _write(store, "sid", loaded, cart=["book"]) is None
    assert store.get("sid") is None


def test_write_of_a_recreated_session_is_dropped() -> None:
    """No ABA: a session destroyed and stored again under the same ID is a new version."""
    store = MemoryStore()
    store.set("sid", stored(user="alice"))
    loaded = store.load("sid")
    theirs = store.load("sid")
    _write(store, "sid", theirs, user=None)  # logout by pop
    store.set("sid", stored(user="alice"))  # the exact value again
    result = _write(store, "sid", loaded, n=1)
    assert result is not None  # merged onto the current version, not a blind overwrite
    assert store.get("sid") == {"cookie": result.session["cookie"], "user": "alice", "n": 1}


def test_destroyed_sessions_do_not_leave_heap_slots_behind() -> None:
    store = MemoryStore()
    for i in range(5000):
        store.set(f"s{i}", stored(max_age=3600))
        store.destroy(f"s{i}")
    store.set("last", stored(max_age=3600))
    assert len(store._entries) == 1
    assert len(store._heap) < 2100  # rebuilt once stale slots outnumber live ones


def test_a_session_over_the_size_limit_is_refused_and_the_stored_copy_kept() -> None:
    store = MemoryStore(max_session_size=10_000)
    store.set("sid", stored(small="x"))
    with pytest.raises(SessionTooLargeError) as caught:
        store.set("sid", stored(small="x", blob="y" * 20_000, other="z" * 5000))
    message = str(caught.value)
    assert "MemoryStore" in message and "9.8 KB" in message
    assert message.index("'blob'") < message.index("'other'")  # largest first
    assert caught.value.size > 25_000 and caught.value.limit == 10_000
    assert store.get("sid") == stored(small="x") | {"cookie": store.get("sid")["cookie"]}


def test_the_warning_points_at_the_user_s_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SessionStore(_production_app(), store=MemoryStore())
    (warning,) = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert warning.filename == __file__


def test_flask_sessions_commands_print_their_note_but_not_the_warning(tmp_path: Any) -> None:
    import subprocess
    import sys

    (tmp_path / "prodapp.py").write_text(
        "from flask import Flask\n"
        "from flask_sessionstore import SessionStore\n"
        "app = Flask(__name__)\n"
        "app.config['SECRET_KEY'] = 'k'\n"
        "SessionStore(app)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "always", "-m", "flask", "--app", "prodapp", "sessions", "count"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
    assert result.stderr.count("only sees the store of its own process") == 1
    assert "RuntimeWarning" not in result.stderr
