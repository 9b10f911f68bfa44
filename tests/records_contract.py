"""The session-side store contract: load, write, refresh, revoke, records and owners.

Every bundled store passes :class:`SessionStoreContract` (api.md sections 5
and 8): a load returns what the save needs; a write merges one request's
changes onto the stored copy, so disjoint keys are never lost; a session
destroyed or revoked after a request loaded it is never written back; the
record (owner, created, last seen, client) lives beside the data, never in
it; ``sessions_of`` and ``revoke_user`` act on exactly one owner.

Subclass it with a ``contract_store`` fixture (a fresh, empty store), like
:class:`tests.store_contract.StoreContract`.  Override :meth:`populate` when
the store can insert many sessions faster than one write each.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from flask_sessionstore import Cookie, Store
from flask_sessionstore.records import Record
from flask_sessionstore.stores.base import Loaded, Write
from tests.store_contract import Advance, StoreContract, stored

USER_KEY = "_user_id"
OWNERS = ["alice", "a.b@example.com", "$admin", "用户", "550e8400-e29b-41d4-a716-446655440000"]


def now() -> datetime:
    return datetime.now(timezone.utc)


def record(ip: str = "203.0.113.7", agent: str = "Mozilla/5.0 test", **fields: Any) -> Record:
    moment = now()
    return Record(
        created_at=fields.pop("created_at", moment),
        last_seen_at=fields.pop("last_seen_at", moment),
        ip=ip,
        user_agent=agent,
        **fields,
    )


def write(
    store: Store,
    sid: str,
    base: Loaded | None,
    *,
    max_age: float | None = 3600,
    rec: Record | None = None,
    cap: datetime | None = None,
    **changes: Any,
) -> Loaded | None:
    """One request's save of ``sid``: ``changes`` on top of ``base`` (None removes a key)."""
    old = {} if base is None else base.data
    data = dict(old)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return store.write(
        sid,
        Write(
            session=stored(max_age, **data),
            base=base,
            changed=tuple(k for k, v in data.items() if k not in old or old[k] != v),
            removed=tuple(k for k in old if k not in data),
            record=rec or record(),
            user_key=USER_KEY,
            expires_cap=cap,
        ),
    )


def refresh(store: Store, sid: str, base: Loaded, *, max_age: float | None = 3600) -> Loaded | None:
    return store.refresh(
        sid,
        Write(
            session=stored(max_age, **base.data),
            base=base,
            record=record(ip="198.51.100.1", agent="refreshing agent"),
            user_key=USER_KEY,
        ),
    )


class SessionStoreContract(StoreContract):
    """What a request's load and save can rely on, and the records of sessions."""

    def populate(self, store: Store, count: int, owner: str | None) -> None:
        """Store ``count`` live sessions of ``owner`` (None: no owner)."""
        for i in range(count):
            data = {USER_KEY: owner} if owner is not None else {"n": i}
            write(store, f"other-{owner}-{i}", None, **data)

    # -- load and write ------------------------------------------------------

    def test_load_returns_the_session_its_record_and_expiry(self, store: Store) -> None:
        written = write(store, "sid", None, **{USER_KEY: "alice", "n": 1})
        assert written is not None
        loaded = store.load("sid")
        assert loaded is not None
        assert loaded.data == {USER_KEY: "alice", "n": 1}  # no record inside the data
        assert loaded.session["cookie"]["originalMaxAge"] == 3_600_000
        assert loaded.record.user == "alice"
        assert loaded.record.ip == "203.0.113.7"
        assert loaded.record.user_agent == "Mozilla/5.0 test"
        assert loaded.record.created_at is not None and loaded.record.last_seen_at is not None
        assert loaded.expires_at is not None
        assert abs((loaded.expires_at - now()).total_seconds() - 3600) < 5
        assert store.get("sid") == loaded.session  # get sees the same session, no record

    def test_load_of_a_missing_or_expired_session_is_none(
        self, store: Store, advance: Advance
    ) -> None:
        assert store.load("missing") is None
        write(store, "short", None, max_age=10, n=1)
        advance(11)
        assert store.load("short") is None

    def test_disjoint_keys_of_overlapping_requests_are_both_kept(self, store: Store) -> None:
        write(store, "sid", None, cart=[], theme="light")
        first, second = store.load("sid"), store.load("sid")
        assert write(store, "sid", first, cart=["book"]) is not None
        assert write(store, "sid", second, theme="dark") is not None
        assert store.get("sid") == stored(3600, cart=["book"], theme="dark") | {
            "cookie": store.get("sid")["cookie"]  # type: ignore[index]
        }

    def test_a_removal_survives_a_concurrent_change(self, store: Store) -> None:
        write(store, "sid", None, user="alice", n=1)
        first, second = store.load("sid"), store.load("sid")
        write(store, "sid", first, user=None)
        write(store, "sid", second, n=2)
        loaded = store.load("sid")
        assert loaded is not None and loaded.data == {"n": 2}

    def test_a_second_write_in_one_request_builds_on_the_first(self, store: Store) -> None:
        write(store, "sid", None, a=1)
        loaded = store.load("sid")
        other = store.load("sid")
        once = write(store, "sid", loaded, a=2)
        write(store, "sid", other, b=1)  # someone else, between our two writes
        assert once is not None
        twice = write(store, "sid", once, a=3)
        assert twice is not None
        final = store.load("sid")
        assert final is not None and final.data == {"a": 3, "b": 1}

    def test_a_destroyed_session_is_never_written_back(self, store: Store) -> None:
        write(store, "sid", None, user="alice")
        loaded = store.load("sid")
        store.destroy("sid")  # a logout in another tab
        assert write(store, "sid", loaded, cart=["book"]) is None
        assert store.load("sid") is None

    def test_a_revoked_session_is_never_written_back_from_another_thread(
        self, store: Store
    ) -> None:
        write(store, "sid", None, **{USER_KEY: "alice"})
        loaded, revoked = threading.Event(), threading.Event()
        results: list[Loaded | None] = []

        def in_flight() -> None:
            base = store.load("sid")  # loaded before the revoke...
            loaded.set()
            assert revoked.wait(10)
            results.append(write(store, "sid", base, cart=["book"]))  # ...saved after it

        thread = threading.Thread(target=in_flight)
        thread.start()
        assert loaded.wait(10)
        assert store.revoke("sid") is True
        revoked.set()
        thread.join(10)
        assert results == [None]
        assert store.load("sid") is None
        assert store.sessions_of("alice") == []

    def test_a_new_session_is_written_whole(self, store: Store) -> None:
        written = write(store, "new", None, n=1, nested={"a": [1, 2.5, None, True]})
        assert written is not None
        loaded = store.load("new")
        assert loaded is not None and loaded.data == {"n": 1, "nested": {"a": [1, 2.5, None, True]}}

    # -- refresh -------------------------------------------------------------

    def test_refresh_moves_the_expiry_and_the_record_not_the_data(
        self, store: Store, advance: Advance
    ) -> None:
        write(store, "sid", None, max_age=60, n=1)
        advance(50)
        loaded = store.load("sid")
        assert loaded is not None
        refreshed = refresh(store, "sid", loaded, max_age=60)
        assert refreshed is not None
        advance(50)
        again = store.load("sid")
        assert again is not None and again.data == {"n": 1}
        assert again.record.ip == "198.51.100.1"
        assert again.record.user_agent == "refreshing agent"
        assert again.session["cookie"]["expires"] == refreshed.session["cookie"]["expires"]

    def test_refresh_after_a_concurrent_write_keeps_that_write(self, store: Store) -> None:
        write(store, "sid", None, n=1)
        loaded = store.load("sid")
        other = store.load("sid")
        write(store, "sid", other, n=2)
        assert loaded is not None
        refresh(store, "sid", loaded)  # skipped (or merged): never brings back n=1
        final = store.load("sid")
        assert final is not None and final.data == {"n": 2}

    def test_refresh_never_recreates_a_destroyed_session(self, store: Store) -> None:
        write(store, "sid", None, n=1)
        loaded = store.load("sid")
        store.destroy("sid")
        assert loaded is not None
        assert refresh(store, "sid", loaded) is None
        assert store.load("sid") is None

    # -- expiry caps (timeouts) ------------------------------------------------

    def test_the_expiry_cap_bounds_the_store_expiry(self, store: Store, advance: Advance) -> None:
        cap = now() + timedelta(seconds=30)
        write(store, "sid", None, max_age=3600, cap=cap, n=1)
        loaded = store.load("sid")
        assert loaded is not None and loaded.expires_at is not None
        assert loaded.expires_at <= cap
        advance(31)
        assert store.load("sid") is None

    def test_the_expiry_cap_also_bounds_a_browser_session(
        self, store: Store, advance: Advance
    ) -> None:
        write(store, "sid", None, max_age=None, cap=now() + timedelta(seconds=30), n=1)
        advance(31)
        assert store.load("sid") is None

    # -- records and owners ----------------------------------------------------

    def test_the_owner_follows_the_user_key(self, store: Store) -> None:
        write(store, "sid", None, n=1)
        assert store.load("sid").record.user is None  # type: ignore[union-attr]
        loaded = write(store, "sid", store.load("sid"), **{USER_KEY: "alice"})
        assert loaded is not None and loaded.record.user == "alice"
        assert [r.id for r in store.sessions_of("alice")] == ["sid"]
        write(store, "sid", store.load("sid"), **{USER_KEY: "bob"})
        assert store.sessions_of("alice") == []
        assert [r.id for r in store.sessions_of("bob")] == ["sid"]
        write(store, "sid", store.load("sid"), **{USER_KEY: None})
        assert store.sessions_of("bob") == []

    def test_a_login_merged_with_a_concurrent_write_records_its_owner(self, store: Store) -> None:
        write(store, "sid", None, theme="light")
        login, other = store.load("sid"), store.load("sid")
        write(store, "sid", login, **{USER_KEY: "alice"})
        write(store, "sid", other, theme="dark")  # loaded before the login
        assert [r.id for r in store.sessions_of("alice")] == ["sid"]

    def test_an_integer_owner_is_recorded_as_str(self, store: Store) -> None:
        write(store, "sid", None, **{USER_KEY: 42})
        assert [r.user for r in store.sessions_of("42")] == ["42"]

    @pytest.mark.parametrize("owner", OWNERS)
    def test_owners_are_matched_exactly(self, store: Store, owner: str) -> None:
        write(store, "mine", None, **{USER_KEY: owner})
        write(store, "near", None, **{USER_KEY: owner + "x"})
        write(store, "upper", None, **{USER_KEY: owner.upper() + "!"})
        (found,) = store.sessions_of(owner)
        assert (found.id, found.user) == ("mine", owner)
        assert store.revoke_user(owner) == 1
        assert store.load("near") is not None and store.load("upper") is not None

    def test_sessions_of_lists_the_most_recently_seen_first(
        self, store: Store, advance: Advance
    ) -> None:
        for sid in ("phone", "laptop", "tablet"):
            write(store, sid, None, rec=record(), **{USER_KEY: "alice"})
            advance(10)
        refresh(store, "phone", store.load("phone"))  # type: ignore[arg-type]
        records = store.sessions_of("alice")
        assert [r.id for r in records] == ["phone", "tablet", "laptop"]
        phone = records[0]
        assert phone.user == "alice" and phone.current is False
        assert phone.ip == "198.51.100.1" and phone.user_agent == "refreshing agent"
        assert phone.created_at is not None and phone.last_seen_at is not None
        assert phone.expires_at is not None and phone.expires_at > now()

    def test_sessions_of_leaves_out_expired_sessions(self, store: Store, advance: Advance) -> None:
        write(store, "short", None, max_age=10, **{USER_KEY: "alice"})
        write(store, "long", None, max_age=100, **{USER_KEY: "alice"})
        advance(11)
        assert [r.id for r in store.sessions_of("alice")] == ["long"]

    def test_revoke_removes_one_session_and_says_if_it_was_live(self, store: Store) -> None:
        write(store, "sid", None, **{USER_KEY: "alice"})
        assert store.revoke("sid") is True
        assert store.load("sid") is None
        assert store.revoke("sid") is False
        assert store.sessions_of("alice") == []

    def test_revoke_user_keeps_the_current_session_when_asked(self, store: Store) -> None:
        for sid in ("a", "b", "c"):
            write(store, sid, None, **{USER_KEY: "alice"})
        write(store, "bob's", None, **{USER_KEY: "bob"})
        assert store.revoke_user("alice", keep="b") == 2
        assert [r.id for r in store.sessions_of("alice")] == ["b"]
        assert store.load("a") is None and store.load("c") is None
        assert store.load("bob's") is not None
        assert store.revoke_user("alice") == 1
        assert store.revoke_user("alice") == 0

    def test_revoke_user_among_many_other_sessions(self, store: Store) -> None:
        self.populate(store, 10_000, None)
        self.populate(store, 3, "alice")
        self.populate(store, 2, "bob")
        assert len(store.sessions_of("alice")) == 3
        assert store.revoke_user("alice") == 3
        assert store.sessions_of("alice") == []
        assert len(store.sessions_of("bob")) == 2
        assert store.length() == 10_002

    def test_a_session_an_express_app_wrote_has_an_empty_record(self, store: Store) -> None:
        store.set("express", {"cookie": Cookie(max_age=60).to_dict(), "n": 1})
        loaded = store.load("express")
        assert loaded is not None and loaded.data == {"n": 1}
        assert loaded.record == Record()
        refreshed = refresh(store, "express", loaded)  # its first touch here records it
        assert refreshed is not None
        again = store.load("express")
        assert again is not None and again.record.created_at is not None
