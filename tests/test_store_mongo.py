"""MongoStore, unit tier on mongomock: options, schema, touch, crypto, failures.

mongomock applies TTL lazily at read time, which hides a missing
``expires > now`` filter; the SecantusDB tier (test_mongo_secantus.py)
checks that path against a real wire-protocol server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import mongomock
import pymongo
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, session
from freezegun import freeze_time

from flask_sessionstore import MongoStore, SessionStore, Store
from flask_sessionstore.crypto import DEFAULT_SALT, DecryptionError, SessionCipher
from tests.store_contract import Advance, StoreContract, stored

FAST_CRYPTO = {"secret": "s3cret", "iterations": 1000}


@pytest.fixture
def advance() -> Iterator[Advance]:
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        yield lambda seconds: frozen.tick(seconds)


@pytest.fixture
def client() -> mongomock.MongoClient:
    return mongomock.MongoClient()


def raw_doc(client: Any, sid: str, collection: str = "sessions") -> dict[str, Any] | None:
    doc: dict[str, Any] | None = client.test[collection].find_one({"_id": sid})
    return doc


def expiry_of(session: dict[str, Any]) -> datetime:
    """The cookie expiry of a stored session as MongoDB stores it (naive UTC, ms)."""
    moment = datetime.fromisoformat(session["cookie"]["expires"].replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


class TestMongoStoreContract(StoreContract):
    """The shared contract, once per storage format."""

    @pytest.fixture(params=["json-string", "sub-document", "encrypted"])
    def contract_store(self, request: pytest.FixtureRequest) -> Store:
        options: dict[str, Any] = {
            "json-string": {},
            "sub-document": {"stringify": False},
            "encrypted": {"crypto": FAST_CRYPTO},
        }[request.param]
        return MongoStore(mongomock.MongoClient(), **options)


# -- construction -------------------------------------------------------------


def test_needs_exactly_one_of_client_url_or_collection(client: Any) -> None:
    with pytest.raises(ValueError, match="exactly one of client"):
        MongoStore()
    with pytest.raises(ValueError, match="got client and mongo_url"):
        MongoStore(client, mongo_url="mongodb://127.0.0.1:1/")
    with pytest.raises(ValueError, match="got mongo_url and collection"):
        MongoStore(mongo_url="mongodb://127.0.0.1:1/", collection=client.test.sessions)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"auto_remove": "sometimes"}, "auto_remove must be one of 'native', 'interval'"),
        ({"ttl": 0}, "ttl must be a positive duration"),
        ({"ttl": -5}, "ttl must not be negative"),
        ({"auto_remove_interval": 0}, "auto_remove_interval must be a positive"),
        ({"touch_after": 3600, "ttl": 600}, r"touch_after \(3600 s\) must be shorter than ttl"),
        ({"crypto": {"secret": "x", "algorithm": "AES-CBC"}}, "unknown key"),
        ({"crypto": {"salt": "x"}}, "needs a 'secret'"),
        ({"crypto": {"secret": ""}}, "non-empty"),
        ({"crypto": {"secret": "x", "encoding": "base32"}}, r"encoding'\] must be one of"),
        ({"mongo_options": {"tls": True}}, "mongo_options apply only with mongo_url"),
        ({"collection_name": "x", "collection": "placeholder"}, "do not apply with collection"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_error(
    client: Any, options: dict[str, Any], message: str
) -> None:
    if options.get("collection") == "placeholder":
        options = {**options, "collection": client.test.sessions}
        with pytest.raises(ValueError, match=message):
            MongoStore(**options)
        return
    with pytest.raises(ValueError, match=message):
        MongoStore(client, **options)


def test_write_concern_of_wrong_type_is_rejected(client: Any) -> None:
    with pytest.raises(TypeError, match="write_concern must be a dict"):
        MongoStore(client, write_concern="majority")


def test_constructing_never_touches_the_network() -> None:
    started = time.monotonic()
    store = MongoStore(mongo_url="mongodb://127.0.0.1:1/", timeout=0.2)
    assert store._collection is None and store._owned_client is None
    assert time.monotonic() - started < 5  # sanity only: nothing waited on a server


def test_import_does_not_need_pymongo_and_never_imports_secantus() -> None:
    code = (
        "import sys; sys.modules['pymongo'] = None\n"
        "import flask_sessionstore\n"
        "from flask_sessionstore import MongoStore\n"
        "store = MongoStore(mongo_url='mongodb://127.0.0.1:1/')\n"
        "assert 'secantus' not in sys.modules and 'cryptography' not in sys.modules\n"
        "try:\n"
        "    store.get('sid')\n"
        "except ImportError as exc:\n"
        "    assert \"the 'mongo' extra\" in str(exc), exc\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


# -- document schema (connect-mongo's) ------------------------------------------


def test_document_has_connect_mongo_schema(client: Any, advance: Advance) -> None:
    store = MongoStore(client)
    session = stored(max_age=3600, user="alice", n=1)
    store.set("sid1", session)
    doc = raw_doc(client, "sid1")
    assert doc is not None
    assert set(doc) == {"_id", "session", "expires"}
    assert doc["session"] == json.dumps(session, separators=(",", ":"))
    assert doc["session"].startswith('{"cookie":{"originalMaxAge":3600000,')
    assert doc["expires"] == expiry_of(session)
    assert doc["expires"].tzinfo is None and doc["expires"].microsecond % 1000 == 0


def test_browser_session_cookie_expires_after_ttl(client: Any, advance: Advance) -> None:
    store = MongoStore(client, ttl=timedelta(hours=2))
    store.set("sid1", stored(max_age=None))
    doc = raw_doc(client, "sid1")
    assert doc is not None
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert doc["expires"] == (now + timedelta(hours=2)).replace(
        microsecond=now.microsecond // 1000 * 1000
    )
    assert json.loads(doc["session"])["cookie"]["expires"] is None  # ttl is not written back


def test_non_ascii_is_stored_like_json_stringify(client: Any) -> None:
    store = MongoStore(client)
    store.set("sid1", stored(name="Zoë ✓"))
    doc = raw_doc(client, "sid1")
    assert doc is not None and '"name":"Zoë ✓"' in doc["session"]


def test_reads_a_session_written_by_connect_mongo(client: Any) -> None:
    # The document of toolchain.md section 3, as connect-mongo 6 wrote it.
    client.test.sessions.insert_one(
        {
            "_id": "nodeSid",
            "expires": datetime(2099, 11, 23, 9, 6, 53, 164000),
            "session": '{"cookie":{"originalMaxAge":60000,"expires":"2099-11-23T09:06:53.164Z",'
            '"httpOnly":true,"path":"/"},"n":1,"flash":{}}',
        }
    )
    loaded = MongoStore(client).get("nodeSid")
    assert loaded == {
        "cookie": {
            "originalMaxAge": 60000,
            "expires": "2099-11-23T09:06:53.164Z",
            "httpOnly": True,
            "path": "/",
        },
        "n": 1,
        "flash": {},
    }


def test_stringify_false_stores_a_sub_document_like_connect_mongo(client: Any) -> None:
    store = MongoStore(client, stringify=False)
    session = stored(max_age=60, n=1)
    store.set("sid1", session)
    doc = raw_doc(client, "sid1")
    assert doc is not None
    cookie = doc["session"]["cookie"]
    assert list(cookie) == [
        "originalMaxAge",
        "partitioned",
        "priority",
        "expires",
        "secure",
        "httpOnly",
        "domain",
        "path",
        "sameSite",
    ]
    assert cookie["expires"] == expiry_of(session) and cookie["domain"] is None
    assert doc["session"]["n"] == 1
    assert store.get("sid1") == session  # back to the express JSON form


def test_transform_id_is_used_for_every_operation(client: Any, advance: Advance) -> None:
    store = MongoStore(client, transform_id=lambda sid: f"sess:{sid}")
    store.set("sid1", stored(n=1))
    assert raw_doc(client, "sess:sid1") is not None and raw_doc(client, "sid1") is None
    assert store.get("sid1") is not None
    advance(30)
    renewed = stored(n=1)
    store.touch("sid1", renewed)
    doc = raw_doc(client, "sess:sid1")
    assert doc is not None and doc["expires"] == expiry_of(renewed)
    assert set(store.all()) == {"sess:sid1"}  # all() is keyed by the stored _id
    store.destroy("sid1")
    assert raw_doc(client, "sess:sid1") is None


def test_timestamps_set_created_once_and_updated_on_every_write(
    client: Any, advance: Advance
) -> None:
    store = MongoStore(client, timestamps=True)
    store.set("sid1", stored(n=1))
    first = raw_doc(client, "sid1")
    assert first is not None and {"createdAt", "updatedAt"} <= set(first)
    advance(5)
    store.set("sid1", stored(n=2))
    second = raw_doc(client, "sid1")
    assert second is not None and second["createdAt"] == first["createdAt"]
    assert store.get("sid1") is not None
    store.touch("sid1", stored(n=2))
    assert raw_doc(client, "sid1") is not None


def test_without_timestamps_there_are_none(client: Any) -> None:
    store = MongoStore(client)
    store.set("sid1", stored())
    doc = raw_doc(client, "sid1")
    assert doc is not None and "createdAt" not in doc and "updatedAt" not in doc


def test_custom_serializer_pair_replaces_stringify(client: Any) -> None:
    store = MongoStore(
        client,
        serialize=lambda s: {"wrapped": json.dumps(s)},
        unserialize=lambda v: json.loads(v["wrapped"]),
    )
    session = stored(n=1)
    store.set("sid1", session)
    doc = raw_doc(client, "sid1")
    assert doc is not None and set(doc["session"]) == {"wrapped"}
    assert store.get("sid1") == session


def test_custom_serializer_error_surfaces_from_set(client: Any) -> None:
    def fail(session: dict[str, Any]) -> Any:
        raise RuntimeError("cannot serialize")

    store = MongoStore(client, serialize=fail)
    with pytest.raises(RuntimeError, match="cannot serialize"):
        store.set("sid1", stored())
    assert raw_doc(client, "sid1") is None


# -- expiry filtering ---------------------------------------------------------------


def test_expired_document_the_ttl_monitor_has_not_removed_is_ignored(client: Any) -> None:
    store = MongoStore(client, auto_remove="disabled")
    client.test.sessions.insert_one(
        {
            "_id": "old",
            "expires": datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1),
            "session": json.dumps(stored(max_age=None)),
        }
    )
    assert store.get("old") is None
    assert store.length() == 0 and store.all() == {}
    assert client.test.sessions.count_documents({}) == 1  # still there, just not live


def test_document_without_expires_is_live(client: Any) -> None:
    client.test.sessions.insert_one({"_id": "legacy", "session": json.dumps(stored())})
    assert MongoStore(client).get("legacy") is not None


# -- touch ----------------------------------------------------------------------


def test_touch_keeps_stored_cookie_in_step_with_expires_351(client: Any, advance: Advance) -> None:
    store = MongoStore(client)
    store.set("sid1", stored(max_age=60, n=1))
    advance(40)
    loaded = store.get("sid1")
    assert loaded is not None
    renewed = stored(max_age=60, n=1)
    store.touch("sid1", renewed)
    doc = raw_doc(client, "sid1")
    assert doc is not None
    assert doc["expires"] == expiry_of(renewed)
    assert json.loads(doc["session"])["cookie"]["expires"] == renewed["cookie"]["expires"]


def test_touch_with_stringify_false_sets_only_the_cookie(client: Any, advance: Advance) -> None:
    store = MongoStore(client, stringify=False)
    store.set("sid1", stored(max_age=60, n=1))
    assert store.get("sid1") is not None
    advance(40)
    renewed = stored(max_age=60, n=1)
    store.touch("sid1", renewed)
    doc = raw_doc(client, "sid1")
    assert doc is not None
    assert doc["session"]["cookie"]["expires"] == doc["expires"] == expiry_of(renewed)
    assert doc["session"]["n"] == 1


def test_touch_never_overwrites_a_concurrent_write(client: Any, advance: Advance) -> None:
    store = MongoStore(client)
    store.set("sid1", stored(max_age=60, cart=[]))
    reader_copy = store.get("sid1")  # a read-only request loads the session...
    assert reader_copy is not None
    writer = MongoStore(client)  # ...while another request (process) adds to the cart
    writer.set("sid1", stored(max_age=60, cart=["book"]))
    advance(1)
    store.touch("sid1", stored(max_age=60, cart=[]))  # the reader ends: touch
    loaded = store.get("sid1")
    assert loaded is not None and loaded["cart"] == ["book"]


def test_touch_replaces_only_the_cookie_when_not_read_in_this_thread(
    client: Any, advance: Advance
) -> None:
    MongoStore(client).set("sid1", stored(max_age=60, n=1))
    advance(30)
    renewed = stored(max_age=60, n=999)  # data in the argument is not stored by touch
    MongoStore(client).touch("sid1", renewed)
    loaded = MongoStore(client).get("sid1")
    assert loaded is not None and loaded["n"] == 1
    assert loaded["cookie"]["expires"] == renewed["cookie"]["expires"]


def test_touch_of_a_vanished_session_is_not_an_error_459(client: Any) -> None:
    store = MongoStore(client)
    store.set("sid1", stored())
    assert store.get("sid1") is not None
    client.test.sessions.delete_one({"_id": "sid1"})  # the TTL monitor got there first
    store.touch("sid1", stored())
    assert raw_doc(client, "sid1") is None


# -- touch_after ------------------------------------------------------------------


def test_touch_after_keeps_last_modified_out_of_session_data(client: Any) -> None:
    store = MongoStore(client, touch_after=60)
    store.set("sid1", stored(max_age=3600, n=1))
    doc = raw_doc(client, "sid1")
    assert doc is not None and isinstance(doc["lastModified"], datetime)
    loaded = store.get("sid1")
    assert loaded is not None and "lastModified" not in loaded


def test_touch_after_keeps_a_user_key_named_last_modified(client: Any) -> None:
    store = MongoStore(client, touch_after=60)
    store.set("sid1", stored(max_age=3600, lastModified="mine"))
    loaded = store.get("sid1")
    assert loaded is not None and loaded["lastModified"] == "mine"


def test_touch_after_skips_touches_until_it_has_passed(client: Any, advance: Advance) -> None:
    store = MongoStore(client, touch_after=60)
    store.set("sid1", stored(max_age=3600, n=1))
    first = raw_doc(client, "sid1")
    advance(30)
    assert store.get("sid1") is not None
    store.touch("sid1", stored(max_age=3600, n=1))
    assert raw_doc(client, "sid1") == first  # no write within touch_after
    advance(31)
    assert store.get("sid1") is not None
    renewed = stored(max_age=3600, n=1)
    store.touch("sid1", renewed)
    doc = raw_doc(client, "sid1")
    assert first is not None and doc is not None
    assert doc["expires"] == expiry_of(renewed) and doc["lastModified"] > first["lastModified"]


def test_touch_after_adds_last_modified_to_documents_without_it(
    client: Any, advance: Advance
) -> None:
    MongoStore(client).set("sid1", stored(max_age=3600))  # written before touch_after was on
    store = MongoStore(client, touch_after=60)
    assert store.get("sid1") is not None
    store.touch("sid1", stored(max_age=3600))
    doc = raw_doc(client, "sid1")
    assert doc is not None and "lastModified" in doc


def test_touch_after_not_shorter_than_cookie_lifetime_is_rejected(client: Any) -> None:
    store = MongoStore(client, touch_after=120)
    with pytest.raises(ValueError, match=r"touch_after \(120 s\).*originalMaxAge 60000 ms"):
        store.set("sid1", stored(max_age=60))
    with pytest.raises(ValueError, match="touch_after"):
        store.touch("sid1", stored(max_age=120))
    store.set("sid2", stored(max_age=121))  # longer lifetimes are fine


# -- corrupt documents ------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        '{"n":1}',  # no cookie member
        '{"cookie":"text"}',
        "[1,2]",
        12345,
        None,
    ],
)
def test_corrupt_document_reads_as_no_session_with_a_warning(
    client: Any, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client.test.sessions.insert_one({"_id": "bad", "session": value})
    with caplog.at_level(logging.WARNING, logger="flask_sessionstore"):
        assert MongoStore(client).get("bad") is None
    assert any(
        "MongoStore(" in r.getMessage() and "unreadable" in r.getMessage() for r in caplog.records
    )
    assert MongoStore(client).all() == {}


def test_corrupt_document_gives_a_new_session_not_a_500(client: Any) -> None:
    store = MongoStore(client)
    app = make_app(store)
    web = app.test_client()
    assert web.get("/write").get_json() == {"n": 1}
    client.test.sessions.update_many({}, {"$set": {"session": "{garbage"}})
    response = web.get("/write")
    assert response.status_code == 200 and response.get_json() == {"n": 1}


# -- crypto (connect-mongo's WebCrypto adapter format) ---------------------------


def webcrypto_blob(plaintext: str, secret: bytes, iv: bytes, encoding: str = "base64") -> str:
    """Encrypt the way connect-mongo's createWebCryptoAdapter does, independently."""
    key = hashlib.pbkdf2_hmac("sha256", secret, b"connect-mongo:webcrypto-default-salt", 310000, 32)
    blob = iv + AESGCM(key).encrypt(iv, plaintext.encode(), None)
    if encoding == "hex":
        return blob.hex()
    if encoding == "base64url":
        return base64.urlsafe_b64encode(blob).decode().rstrip("=")
    return base64.b64encode(blob).decode()


def test_crypto_known_answer_decrypts_a_blob_built_independently(client: Any) -> None:
    session = stored(max_age=None, user="alice")
    text = json.dumps(session, separators=(",", ":"))
    blob = webcrypto_blob(text, b"keyboard cat", bytes(range(12)))
    client.test.sessions.insert_one({"_id": "sid1", "session": blob})
    store = MongoStore(client, crypto={"secret": "keyboard cat"})
    assert store.get("sid1") == session


def test_crypto_values_we_write_decrypt_independently(client: Any) -> None:
    store = MongoStore(client, crypto={"secret": b"keyboard cat"})
    session = stored(user="alice")
    store.set("sid1", session)
    doc = raw_doc(client, "sid1")
    assert doc is not None and "alice" not in doc["session"]
    blob = base64.b64decode(doc["session"])
    key = hashlib.pbkdf2_hmac("sha256", b"keyboard cat", DEFAULT_SALT, 310000, 32)
    plaintext = AESGCM(key).decrypt(blob[:12], blob[12:], None)
    assert json.loads(plaintext) == session
    assert len(blob) == 12 + len(plaintext) + 16


@pytest.mark.parametrize("encoding", ["base64url", "hex"])
def test_crypto_encodings(client: Any, encoding: str) -> None:
    cipher = SessionCipher("s", iterations=1000, encoding=encoding)  # type: ignore[arg-type]
    stored_value = cipher.encrypt("héllo")
    if encoding == "hex":
        assert all(c in "0123456789abcdef" for c in stored_value)
    else:
        assert "+" not in stored_value and "/" not in stored_value and "=" not in stored_value
    assert cipher.decrypt(stored_value) == "héllo"


def test_crypto_salt_and_iterations_overrides(client: Any) -> None:
    cipher = SessionCipher("s", salt="pepper", iterations=1234)
    blob = base64.b64decode(cipher.encrypt("x"))
    key = hashlib.pbkdf2_hmac("sha256", b"s", b"pepper", 1234, 32)
    assert AESGCM(key).decrypt(blob[:12], blob[12:], None) == b"x"


def test_crypto_with_wrong_secret_or_tampering_is_no_session(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    MongoStore(client, crypto=FAST_CRYPTO).set("sid1", stored())
    other = MongoStore(client, crypto={**FAST_CRYPTO, "secret": "other"})
    with caplog.at_level(logging.WARNING, logger="flask_sessionstore"):
        assert other.get("sid1") is None
    assert "authentication failed" in caplog.text
    with pytest.raises(DecryptionError):
        SessionCipher("s", iterations=1000).decrypt("AAAA")


def test_crypto_derives_the_key_once(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = hashlib.pbkdf2_hmac

    def counting(*args: Any) -> bytes:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    store = MongoStore(client, crypto=FAST_CRYPTO)
    assert calls == []  # not at construction
    for i in range(5):
        store.set(f"sid{i}", stored())
        assert store.get(f"sid{i}") is not None
    assert len(calls) == 1


# -- lazy set-up: client per process, TTL index ------------------------------------


class FakeClients:
    """Stands in for ``pymongo.MongoClient``: mongomock clients, recording the options."""

    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.server = mongomock.MongoClient()

    def __call__(self, url: str, **options: Any) -> Any:
        self.created.append((url, options))
        return self.server


@pytest.fixture
def fake_clients(monkeypatch: pytest.MonkeyPatch) -> FakeClients:
    fake = FakeClients()
    monkeypatch.setattr(pymongo, "MongoClient", fake)
    return fake


def test_client_is_created_lazily_with_a_bounded_timeout(fake_clients: FakeClients) -> None:
    store = MongoStore(mongo_url="mongodb://db.example:27017/app")
    assert fake_clients.created == []
    store.set("sid1", stored())
    assert store.get("sid1") is not None
    [(url, options)] = fake_clients.created
    assert url == "mongodb://db.example:27017/app"
    assert options["serverSelectionTimeoutMS"] == 5000 and options["connectTimeoutMS"] == 5000
    assert options["connect"] is False


def test_timeout_and_mongo_options_reach_the_client(fake_clients: FakeClients) -> None:
    store = MongoStore(
        mongo_url="mongodb://h/", timeout=1.5, mongo_options={"socketTimeoutMS": 2000}
    )
    store.length()
    [(_, options)] = fake_clients.created
    assert options["serverSelectionTimeoutMS"] == 1500 and options["socketTimeoutMS"] == 2000


def test_a_forked_process_gets_its_own_client(
    fake_clients: FakeClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MongoStore(mongo_url="mongodb://h/")
    store.length()
    store.length()
    assert len(fake_clients.created) == 1
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)  # as after gunicorn --preload
    store.length()
    assert len(fake_clients.created) == 2


def test_ttl_index_is_created_on_first_use_with_connect_mongo_options(client: Any) -> None:
    store = MongoStore(client)
    assert "expires_1" not in client.test.sessions.index_information()
    store.get("anything")
    index = client.test.sessions.index_information()["expires_1"]
    assert index["key"] == [("expires", 1)] and index["expireAfterSeconds"] == 0
    MongoStore(client).get("again")  # a second store accepts it


def test_equivalent_existing_index_is_fine(client: Any) -> None:
    client.test.sessions.create_index("expires", expireAfterSeconds=0)
    store = MongoStore(client)
    store.set("sid1", stored())
    assert store.get("sid1") is not None


def test_conflicting_index_is_a_clear_error_and_retried_later(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client.test.sessions.create_index("expires", expireAfterSeconds=3600)
    store = MongoStore(client)
    with (
        caplog.at_level(logging.ERROR, logger="flask_sessionstore"),
        pytest.raises(RuntimeError, match=r"cannot create its TTL index expires_1.*auto_remove="),
    ):
        store.get("sid1")
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    client.test.sessions.drop_index("expires_1")
    assert store.get("sid1") is None  # retried, and it works now
    assert client.test.sessions.index_information()["expires_1"]["expireAfterSeconds"] == 0


@pytest.mark.parametrize("mode", ["disabled", "interval"])
def test_other_auto_remove_modes_never_create_the_index(client: Any, mode: str) -> None:
    store = MongoStore(client, auto_remove=mode)  # type: ignore[arg-type]
    store.set("sid1", stored())
    assert store.get("sid1") is not None
    assert "expires_1" not in client.test.sessions.index_information()
    store.close()


def test_prune_is_a_no_op_for_native_and_deletes_otherwise(client: Any) -> None:
    past = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
    for sid in ("a", "b"):
        client.test.plain.insert_one({"_id": sid, "expires": past, "session": "{}"})
    native = MongoStore(client, collection_name="plain")
    assert native.prune() == 0
    disabled = MongoStore(client, collection_name="plain", auto_remove="disabled")
    assert disabled.prune() == 2
    assert client.test.plain.count_documents({}) == 0


def test_interval_mode_removes_expired_sessions_in_the_background(client: Any) -> None:
    store = MongoStore(client, auto_remove="interval", auto_remove_interval=0.05)
    past = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1)
    client.test.sessions.insert_one({"_id": "old", "expires": past, "session": "{}"})
    store.set("live", stored())
    deadline = time.monotonic() + 10
    while client.test.sessions.count_documents({"_id": "old"}) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.test.sessions.count_documents({"_id": "old"}) == 0
    assert store.get("live") is not None
    sweepers = [t for t in threading.enumerate() if t.name.endswith("sweeper")]
    assert sweepers and all(t.daemon for t in sweepers)
    store.close()


# -- write concern, read preference, errors ---------------------------------------


class RecordingCollection:
    """A collection whose ``with_options`` is recorded; everything else is mongomock's."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.options: dict[str, Any] = {}
        self.full_name = inner.full_name

    def with_options(self, **options: Any) -> Any:
        self.options = options
        return self.inner.with_options(**options)


def test_write_concern_and_primary_reads(client: Any) -> None:
    recording = RecordingCollection(client.test.sessions)
    store = MongoStore(collection=recording, write_concern={"w": "majority", "wtimeout": 500})
    store.set("sid1", stored())
    assert recording.options["write_concern"].document == {"w": "majority", "wtimeout": 500}
    assert recording.options["read_preference"] == pymongo.ReadPreference.PRIMARY


class BrokenCollection:
    """A collection whose every operation fails the way an unreachable server does."""

    full_name = "app.sessions"

    def with_options(self, **options: Any) -> BrokenCollection:
        return self

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise pymongo.errors.ServerSelectionTimeoutError("127.0.0.1:1: connection refused")

        return fail


@pytest.mark.parametrize("operation", ["get", "set", "touch", "destroy", "all", "length", "clear"])
def test_store_errors_propagate_after_one_error_line_naming_the_store(
    operation: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = MongoStore(collection=BrokenCollection(), auto_remove="disabled")
    args: dict[str, tuple[Any, ...]] = {
        "get": ("sid1",),
        "set": ("sid1", stored()),
        "touch": ("sid1", stored()),
        "destroy": ("sid1",),
    }
    with (
        caplog.at_level(logging.ERROR, logger="flask_sessionstore"),
        pytest.raises(pymongo.errors.ServerSelectionTimeoutError),
    ):
        getattr(store, operation)(*args.get(operation, ()))
    [record] = caplog.records
    assert record.levelname == "ERROR"
    assert "MongoStore(app.sessions)" in record.getMessage()
    assert "ServerSelectionTimeoutError" in record.getMessage()


def test_unreachable_server_fails_within_the_timeout(caplog: pytest.LogCaptureFixture) -> None:
    store = MongoStore(mongo_url="mongodb://127.0.0.1:1/", timeout=0.2)
    started = time.monotonic()
    with pytest.raises(pymongo.errors.ServerSelectionTimeoutError):
        store.get("sid1")
    assert time.monotonic() - started < 30  # sanity only: bounded by timeout, not 30 s default
    store.close()


# -- through Flask -------------------------------------------------------------------


def make_app(store: MongoStore, **options: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="keyboard cat", TESTING=True)
    SessionStore(app, store=store, cookie={"max_age": 3600}, **options)

    @app.get("/write")
    def write() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"n": session.get("n")}

    @app.get("/tagged")
    def tagged() -> dict[str, Any]:
        session["pair"] = (1, 2)
        session["raw"] = b"\x00\xff"
        return {}

    @app.get("/tagged/read")
    def tagged_read() -> dict[str, Any]:
        return {"pair": repr(session["pair"]), "raw": repr(session["raw"])}

    return app


def test_flask_app_round_trip_through_mongo_store(client: Any) -> None:
    app = make_app(MongoStore(client))
    web = app.test_client()
    assert web.get("/write").get_json() == {"n": 1}
    assert web.get("/write").get_json() == {"n": 2}
    assert web.get("/read").get_json() == {"n": 2}
    web.get("/tagged")
    assert web.get("/tagged/read").get_json() == {"pair": "(1, 2)", "raw": "b'\\x00\\xff'"}


# -- merge: concurrent requests changing different keys ----------------------------


def test_merge_applies_changed_and_removed_keys(client: Any) -> None:
    store = MongoStore(client)
    store.set("sid1", stored(a=1, b=2, c=3))
    assert store.get("sid1") is not None
    store.merge("sid1", stored(a=10, b=2, d=4), changed=["a", "d"], removed=["c"])
    loaded = store.get("sid1")
    assert loaded is not None
    assert {k: v for k, v in loaded.items() if k != "cookie"} == {"a": 10, "b": 2, "d": 4}


@pytest.mark.parametrize("options", [{}, {"stringify": False}, {"crypto": FAST_CRYPTO}])
def test_merge_keeps_a_concurrent_change_to_another_key(
    client: Any, options: dict[str, Any]
) -> None:
    store = MongoStore(client, **options)
    store.set("sid1", stored(cart=[], theme="light"))
    assert store.get("sid1") is not None  # this request loads the session...
    other = MongoStore(client, **options)  # ...another process changes another key
    assert other.get("sid1") is not None
    other.merge("sid1", stored(cart=[], theme="dark"), changed=["theme"], removed=[])
    store.merge("sid1", stored(cart=["book"], theme="light"), changed=["cart"], removed=[])
    loaded = store.get("sid1")
    assert loaded is not None and loaded["cart"] == ["book"] and loaded["theme"] == "dark"


def test_merge_does_not_bring_back_a_vanished_session(client: Any) -> None:
    store = MongoStore(client)
    store.set("sid1", stored(a=1))
    assert store.get("sid1") is not None
    client.test.sessions.delete_many({})  # a logout elsewhere, or the TTL monitor
    store.merge("sid1", stored(a=2), changed=["a"], removed=[])
    assert store.get("sid1") is None


def test_merge_without_a_read_in_this_thread_reads_first(client: Any) -> None:
    MongoStore(client).set("sid1", stored(a=1, b=1))
    MongoStore(client).merge("sid1", stored(a=2), changed=["a"], removed=[])
    loaded = MongoStore(client).get("sid1")
    assert loaded is not None and (loaded["a"], loaded["b"]) == (2, 1)
