"""The ``session_store`` fixture in a test module that has no ``app`` fixture."""

from __future__ import annotations

from flask_sessionstore import MemoryStore, Store

pytest_plugins = ["flask_sessionstore.testing"]


def test_session_store_is_a_fresh_memory_store(session_store: Store) -> None:
    assert isinstance(session_store, MemoryStore)
    assert session_store.length() == 0
