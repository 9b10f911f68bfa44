"""MongoStore, unit tier on mongomock: the contracts, options, schema, touch, crypto, records.

mongomock applies TTL lazily at read time, which hides a missing
``expires > now`` filter, and has neither ``pymongo.timeout`` nor thread
safety; the SecantusDB tier (test_mongo_secantus.py) checks those paths
against a real wire-protocol server.  The client, indexes, timeouts and
failures are in test_mongo_connection.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import mongomock
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, session
from freezegun import freeze_time

from flask_sessionstore import MongoStore, SessionStore, SessionTooLargeError, Store
from flask_sessionstore.crypto import DEFAULT_SALT, DecryptionError, SessionCipher
from tests.mongo_checks import bulk_insert
from tests.records_contract import USER_KEY, SessionStoreContract, record, refresh, write
from tests.store_contract import Advance, stored

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


class TestMongoStoreContract(SessionStoreContract):
    """The shared contracts (express's and the session's), once per storage format."""

    @pytest.fixture(params=["json-string", "sub-document", "encrypted"])
    def contract_store(self, request: pytest.FixtureRequest) -> Store:
        options: dict[str, Any] = {
            "json-string": {},
            "sub-document": {"stringify": False},
            "encrypted": {"crypto": FAST_CRYPTO},
        }[request.param]
        return MongoStore(mongomock.MongoClient(), **options)

    def populate(self, store: Store, count: int, owner: str | None) -> None:
        assert isinstance(store, MongoStore)
        bulk_insert(store, count, owner)


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
    store = MongoStore(mongo_url="mongodb+srv://user:pw@cluster.example.invalid/app", timeout=0.2)
    assert store.connection._bound is None  # no client yet: its DNS lookup waits for first use


def test_a_missing_pymongo_is_an_import_error_at_construction_naming_the_extra() -> None:
    code = (
        "import sys; sys.modules['pymongo'] = None\n"
        "import flask_sessionstore\n"
        "from flask_sessionstore import MongoStore\n"
        "assert 'secantus' not in sys.modules and 'cryptography' not in sys.modules\n"
        "try:\n"
        "    MongoStore(mongo_url='mongodb://127.0.0.1:1/')\n"
        "except ImportError as exc:\n"
        "    assert \"pip install 'flask-express-session[mongo]'\" in str(exc), exc\n"
        "    print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_no_thread_or_greenlet_state_links_a_load_to_a_save(client: Any) -> None:
    store = MongoStore(client)
    write(store, "sid", None, n=1)
    loaded = store.load("sid")
    for holder in (store, store.connection, store._format):
        assert not any(isinstance(v, threading.local) for v in vars(holder).values())
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(write(store, "sid", loaded, n=2)))
    thread.start()  # saved on another thread than the one that loaded it
    thread.join(10)
    assert results[0] is not None and store.get("sid")["n"] == 2  # type: ignore[index]


# -- document schema (connect-mongo's) ------------------------------------------


def test_document_has_connect_mongo_schema(client: Any, advance: Advance) -> None:
    store = MongoStore(client)
    session = stored(max_age=3600, user="alice", n=1)
    store.set("sid1", session)
    doc = raw_doc(client, "sid1")
    assert doc is not None
    assert set(doc) == {"_id", "session", "expires", "rev"}  # rev: our compare-and-set token
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


def test_a_flask_request_records_its_session(client: Any) -> None:
    app = make_app(MongoStore(client), user_key="n")
    web = app.test_client()
    web.get(
        "/write",
        headers={"User-Agent": "pytest browser"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    doc = client.test.sessions.find_one()
    assert (doc["user"], doc["ip"], doc["userAgent"]) == ("1", "203.0.113.9", "pytest browser")
    assert isinstance(doc["createdAt"], datetime) and isinstance(doc["lastSeenAt"], datetime)
    assert set(json.loads(doc["session"])) == {"cookie", "n"}  # the record is not in the data


# -- records: beside connect-mongo's fields, never in the data --------------------------


def test_the_record_lives_in_top_level_fields(client: Any) -> None:
    store = MongoStore(client)
    write(store, "sid", None, **{USER_KEY: "alice", "n": 1})
    doc = raw_doc(client, "sid")
    assert doc is not None
    assert set(doc) == {
        *("_id", "session", "expires"),  # connect-mongo's
        "rev",  # the compare-and-set token
        *("user", "createdAt", "lastSeenAt", "ip", "userAgent"),  # the record
    }
    assert doc["user"] == "alice" and doc["ip"] == "203.0.113.7"
    assert json.loads(doc["session"]) == stored(3600, **{USER_KEY: "alice", "n": 1}) | {
        "cookie": json.loads(doc["session"])["cookie"]
    }


def test_an_express_style_write_leaves_the_record_in_place(client: Any) -> None:
    store = MongoStore(client)
    write(store, "sid", None, **{USER_KEY: "alice", "n": 1})
    before = raw_doc(client, "sid")
    # connect-mongo's set: $set of session and expires (upsert), nothing else
    node = stored(3600, **{USER_KEY: "alice", "n": 2})
    client.test.sessions.update_one(
        {"_id": "sid"},
        {"$set": {"session": json.dumps(node), "expires": expiry_of(node)}},
        upsert=True,
    )
    loaded = store.load("sid")
    assert loaded is not None and loaded.data == {USER_KEY: "alice", "n": 2}
    assert loaded.record.user == "alice" and loaded.record.ip == "203.0.113.7"
    after = raw_doc(client, "sid")
    assert after is not None and before is not None
    assert {k: after[k] for k in ("rev", "user", "createdAt", "lastSeenAt", "ip", "userAgent")} == {
        k: before[k] for k in ("rev", "user", "createdAt", "lastSeenAt", "ip", "userAgent")
    }


def test_express_set_is_a_whole_upsert_that_leaves_the_record(client: Any) -> None:
    store = MongoStore(client)
    write(store, "sid", None, **{USER_KEY: "alice", "n": 1})
    store.set("sid", stored(60, n=5))
    loaded = store.load("sid")
    assert loaded is not None and loaded.data == {"n": 5}
    assert loaded.record.user == "alice"  # (set() is connect-mongo's: it knows no record)


def test_a_write_of_a_loaded_session_sends_no_old_value(client: Any) -> None:
    spy = SpyCollection(client.test.sessions)
    store = MongoStore(collection=spy)
    write(store, "sid", None, big="x" * 100_000)
    loaded = store.load("sid")
    spy.calls.clear()
    write(store, "sid", loaded, big="y" * 100_000)
    [(name, (query, update), _)] = spy.calls
    assert name == "update_one"
    assert set(query) == {"_id", "rev", "expires"}  # a constant-size compare-and-set
    assert len(json.dumps(query, default=str)) < 200
    assert "y" * 100_000 in update["$set"]["session"]


def test_a_session_too_big_for_a_document_fails_before_any_io(client: Any) -> None:
    spy = SpyCollection(client.test.sessions)
    store = MongoStore(collection=spy)
    write(store, "sid", None, n=1)
    loaded = store.load("sid")
    spy.calls.clear()
    huge = {"blob": "x" * (16 * 1024 * 1024), "small": 1}
    with pytest.raises(SessionTooLargeError, match=r"16\.0 MB.*over the .* limit.*'blob'") as info:
        write(store, "sid", loaded, **huge)
    assert info.value.largest[0][0] == "blob" and info.value.size > info.value.limit
    with pytest.raises(SessionTooLargeError):
        write(store, "other", None, **huge)
    with pytest.raises(SessionTooLargeError):
        store.set("sid", stored(**huge))
    assert spy.calls == []  # nothing was sent
    assert store.get("sid") == loaded.session  # type: ignore[union-attr]


def test_timestamps_created_at_is_the_records(client: Any) -> None:
    store = MongoStore(client, timestamps=True)
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write(store, "sid", None, rec=record(created_at=created), n=1)
    doc = raw_doc(client, "sid")
    assert doc is not None and doc["createdAt"] == created.replace(tzinfo=None)
    assert isinstance(doc["updatedAt"], datetime)
    loaded = store.load("sid")
    assert loaded is not None and loaded.record.created_at == created


def test_touch_after_keeps_writing_last_modified_for_connect_mongo(
    client: Any, advance: Advance
) -> None:
    store = MongoStore(client, touch_after=60)
    write(store, "sid", None, n=1)
    first = raw_doc(client, "sid")
    assert first is not None and isinstance(first["lastModified"], datetime)
    advance(120)
    refresh(store, "sid", store.load("sid"))  # type: ignore[arg-type]
    second = raw_doc(client, "sid")
    assert second is not None and second["lastModified"] > first["lastModified"]


def test_with_transform_id_records_name_the_stored_id_which_revoke_accepts(client: Any) -> None:
    store = MongoStore(client, transform_id=lambda sid: f"sess:{sid}")
    write(store, "a", None, **{USER_KEY: "alice"})
    write(store, "b", None, **{USER_KEY: "alice"})
    assert sorted(r.id for r in store.sessions_of("alice")) == ["sess:a", "sess:b"]
    assert store.revoke("sess:a") is True  # as listed
    assert store.revoke_user("alice", keep="b") == 0  # keep is a session ID
    assert store.revoke("b") is True
    assert store.sessions_of("alice") == []


def test_records_lists_live_sessions_without_their_data(client: Any, advance: Advance) -> None:
    store = MongoStore(client)
    write(store, "short", None, max_age=10, **{USER_KEY: "bob"})
    for i in range(3):
        write(store, f"s{i}", None, **{USER_KEY: "alice"})
    advance(11)
    listed = list(store.records())
    assert sorted(r.id for r in listed) == ["s0", "s1", "s2"]
    assert {r.user for r in listed} == {"alice"}
    assert len(list(store.records(limit=2))) == 2


class SpyCollection:
    """A mongomock collection that records the calls the store makes on it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.full_name = inner.full_name
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def with_options(self, **options: Any) -> SpyCollection:
        return self

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name not in ("create_indexes", "index_information"):
                self.calls.append((name, args, kwargs))
            return method(*args, **kwargs)

        return call
