"""Express interop: a real Express app and a Flask app share one login.

The Node side is tests/interop/node/app.js: express, express-session and
connect-mongo from npm (``npm ci`` in that folder; ``make test`` does it).  The
Flask side is :class:`SessionStore` with a :class:`MongoStore`.  Both run as
real HTTP servers on 127.0.0.1 against one collection of one SecantusDB
server, with the same cookie name (``connect.sid``) and secret, and a
:class:`Browser` carries the one cookie between them the way a browser does
(cookies are not isolated by port).  Every scenario runs in three storage
modes, set the same way on both sides: JSON text (connect-mongo's default),
encrypted at rest (connect-mongo's ``createWebCryptoAdapter`` and our
``crypto={"secret": ...}``), and BSON sub-documents (``stringify=False``).

Nothing here is skipped: without Node.js or the npm packages the tests fail
and say what to install, so CI cannot pass without running them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pymongo
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, jsonify, render_template_string, request, session
from markupsafe import Markup
from werkzeug.serving import make_server

from flask_sessionstore import MongoStore, ServerSession, SessionStore
from flask_sessionstore.signing import (
    cookie_value,
    decode_uri_component,
    session_id_from_cookie,
    sign,
    unsign,
)
from tests.mongo_server import secantus_uri
from tests.processes import die_with_parent

__all__ = ["secantus_uri"]  # the fixture, imported for pytest

pytestmark = pytest.mark.interop

NODE_DIR = Path(__file__).parent / "interop" / "node"
NPM_PACKAGES = ("express", "express-session", "connect-mongo", "cookie-signature")

COOKIE_NAME = "connect.sid"
#: Shared by both apps; non-ASCII so both sides must key the HMAC with UTF-8.
SECRET = "shared sécret ☕ keyboard cat"
CRYPTO_SECRET = "at-rest sécret"
DB_NAME = "interop"
#: connect-mongo's createWebCryptoAdapter default PBKDF2 salt.
WEBCRYPTO_SALT = b"connect-mongo:webcrypto-default-salt"
MAX_AGE = 3600

#: Seconds any one HTTP request, start-up or shutdown may take.
TIMEOUT = 15.0


@dataclass(frozen=True)
class Mode:
    """How both apps store sessions: connect-mongo's ``stringify`` and crypto."""

    name: str
    stringify: bool = True
    crypto_secret: str | None = None
    touch_after: int = 0


#: JSON text (connect-mongo's default), encrypted JSON text, BSON sub-document.
PLAIN = Mode("plain")
CRYPTO = Mode("crypto", crypto_secret=CRYPTO_SECRET)
SUBDOCUMENT = Mode("subdocument", stringify=False)


# -- Node.js and the npm packages: fail loudly when missing -----------------


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` binary, with the npm packages installed beside app.js."""
    binary = shutil.which("node")
    if binary is None:
        pytest.fail(
            "The Express interop tests need Node.js, but `node` is not on PATH. "
            "Install it (Debian: apt-get install nodejs npm), then run `make test`.",
            pytrace=False,
        )
    missing = [name for name in NPM_PACKAGES if not (NODE_DIR / "node_modules" / name).is_dir()]
    if missing:
        pytest.fail(
            f"The Express interop tests need the npm packages {', '.join(missing)} in "
            f"{NODE_DIR / 'node_modules'}. Run `npm ci` in {NODE_DIR} "
            "(`make test` does it).",
            pytrace=False,
        )
    return binary


# -- A cookie jar for one browser --------------------------------------------


class Browser:
    """One browser: sends and keeps the ``connect.sid`` cookie for 127.0.0.1.

    Browsers do not isolate cookies by port, so one cookie serves both apps,
    which is exactly how the two share a login in production behind one host.
    """

    def __init__(self) -> None:
        #: The raw (still URL-encoded) cookie value, or None.
        self.cookie: str | None = None
        #: The Set-Cookie headers of the last response.
        self.set_cookies: list[str] = []

    @property
    def sid(self) -> str | None:
        """The session ID inside the cookie (verified with the shared secret)."""
        if self.cookie is None:
            return None
        return session_id_from_cookie(decode_uri_component(self.cookie), [SECRET.encode()])

    def get(self, base_url: str, path: str, **query: str | int) -> dict[str, Any]:
        """GET ``path`` and return its JSON body; fail the test on a non-200."""
        host, port = base_url.removeprefix("http://").split(":")
        target = path + ("?" + urlencode(query) if query else "")
        headers = {"Cookie": f"{COOKIE_NAME}={self.cookie}"} if self.cookie else {}
        connection = HTTPConnection(host, int(port), timeout=TIMEOUT)
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            body = response.read().decode("utf-8")
            self.set_cookies = response.headers.get_all("Set-Cookie") or []
        finally:
            connection.close()
        assert response.status == 200, f"GET {base_url}{target}: {response.status} {body}"
        for header in self.set_cookies:
            self._remember(header)
        return json.loads(body)  # type: ignore[no-any-return]

    def _remember(self, header: str) -> None:
        pair, *attributes = (part.strip() for part in header.split(";"))
        name, _, value = pair.partition("=")
        if name != COOKIE_NAME:
            return
        for attribute in attributes:
            key, _, attr_value = attribute.partition("=")
            if key.lower() == "expires" and parsedate_to_datetime(attr_value) <= now():
                self.cookie = None
                return
            if key.lower() == "max-age" and int(attr_value) <= 0:
                self.cookie = None
                return
        self.cookie = value


def now() -> datetime:
    return datetime.now(timezone.utc)


# -- The Express app ----------------------------------------------------------


@contextmanager
def express_app(node: str, mongo_url: str, collection: str, mode: Mode) -> Iterator[str]:
    """Run tests/interop/node/app.js on a free 127.0.0.1 port; yield its base URL.

    It is stopped by its PID at the end (SIGTERM, then SIGKILL), and it also
    exits by itself when its stdin closes, so it cannot outlive the test run.
    """
    env = {
        **os.environ,
        "PORT": "0",
        "MONGO_URL": mongo_url,
        "DB_NAME": DB_NAME,
        "COLLECTION": collection,
        "SECRET": SECRET,
        "MAX_AGE_MS": str(MAX_AGE * 1000),
    }
    env.pop("CRYPTO_SECRET", None)
    if mode.crypto_secret is not None:
        env["CRYPTO_SECRET"] = mode.crypto_secret
    env["STRINGIFY"] = "true" if mode.stringify else "false"
    env["TOUCH_AFTER"] = str(mode.touch_after)
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = subprocess.Popen(
            [node, "app.js"],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            preexec_fn=die_with_parent,
        )
        try:
            port = wait_until_ready(process, stderr)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(process)
            stderr.seek(0)
            # Shown by pytest under "Captured stderr" when a test fails.
            sys.stderr.write(stderr.read())


def wait_until_ready(process: subprocess.Popen[str], stderr: Any) -> int:
    """Read app.js's ready line and return its port; fail with its stderr."""
    assert process.stdout is not None
    deadline = time.monotonic() + TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                line = process.stdout.readline()
                if line.startswith("{"):
                    return int(json.loads(line)["port"])
                if not line:  # stdout closed: node exited
                    break
            if process.poll() is not None:
                break
    stderr.seek(0)
    pytest.fail(
        f"app.js did not start within {TIMEOUT:.0f} s (exit code {process.poll()}):\n"
        f"{stderr.read()}",
        pytrace=False,
    )


def stop(process: subprocess.Popen[str]) -> None:
    """Stop ``process`` by its PID and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


# -- The Flask app ------------------------------------------------------------


def create_flask_app(mongo_url: str, collection: str, mode: Mode) -> Flask:
    """The Flask twin of app.js: same routes, same JSON, same cookie."""
    app = Flask("interop")
    crypto = None if mode.crypto_secret is None else {"secret": mode.crypto_secret}
    store = MongoStore(
        mongo_url=mongo_url,
        db_name=DB_NAME,
        collection_name=collection,
        stringify=mode.stringify,
        crypto=crypto,
        touch_after=mode.touch_after,
    )
    SessionStore(app, name=COOKIE_NAME, secret=SECRET, store=store, cookie={"max_age": MAX_AGE})

    def server_session() -> ServerSession:
        assert isinstance(session, ServerSession)
        return session

    def describe() -> Any:
        current = server_session()
        return jsonify(id=current.id, data=dict(current))

    @app.get("/login")
    def login() -> Any:
        server_session().regenerate()
        session["user"] = request.args["user"]
        return describe()

    @app.get("/whoami")
    def whoami() -> Any:
        return describe()

    @app.get("/set")
    def set_values() -> Any:
        session.update(request.args)
        return describe()

    @app.get("/json")
    def set_json() -> Any:
        session.update({key: json.loads(value) for key, value in request.args.items()})
        return describe()

    @app.get("/incr")
    def incr() -> Any:
        for key, value in request.args.items():
            session[key] = session.get(key, 0) + int(value)
        return describe()

    @app.get("/regenerate")
    def regenerate() -> Any:
        server_session().regenerate(keep_data=True)
        return describe()

    @app.get("/bold")
    def bold() -> Any:
        session["note"] = Markup("<b>saved</b>")
        return jsonify(ok=True)

    @app.get("/render/<key>")
    def render(key: str) -> Any:
        value = session.get(key)
        return jsonify(
            html=render_template_string("{{ value }}", value=value),
            type=type(value).__name__,
        )

    @app.get("/logout")
    def logout() -> Any:
        server_session().destroy()
        return jsonify(ok=True)

    return app


@contextmanager
def flask_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` with werkzeug on a free 127.0.0.1 port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flask-interop", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=TIMEOUT)


# -- Both apps on one collection ---------------------------------------------


@dataclass
class Apps:
    """The two apps of one scenario and the collection they share."""

    express: str
    flask: str
    collection: pymongo.collection.Collection[dict[str, Any]]
    mode: Mode

    def set_stored_cookie_expires(self, sid: str, moment: datetime) -> None:
        """Rewrite ``cookie.expires`` inside a stored session, in the mode's format.

        With encryption on, the blob is decrypted and encrypted again in the
        WebCrypto adapter's format: base64(iv + AES-256-GCM ciphertext + tag).
        """
        doc = self.collection.find_one({"_id": sid})
        assert doc is not None, f"no document for {sid}"
        if not self.mode.stringify and self.mode.crypto_secret is None:
            naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
            self.collection.update_one({"_id": sid}, {"$set": {"session.cookie.expires": naive}})
            return
        text = doc["session"]
        cipher = None
        if self.mode.crypto_secret is not None:
            secret = self.mode.crypto_secret.encode()
            cipher = AESGCM(hashlib.pbkdf2_hmac("sha256", secret, WEBCRYPTO_SALT, 310000, 32))
            blob = base64.b64decode(text)
            text = cipher.decrypt(blob[:12], blob[12:], None).decode()
        stored = json.loads(text)
        stored["cookie"]["expires"] = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        text = json.dumps(stored, separators=(",", ":"))
        if cipher is not None:
            iv = os.urandom(12)
            text = base64.b64encode(iv + cipher.encrypt(iv, text.encode(), None)).decode()
        self.collection.update_one({"_id": sid}, {"$set": {"session": text}})


@pytest.fixture(scope="module", params=[PLAIN, CRYPTO, SUBDOCUMENT], ids=lambda mode: mode.name)
def apps(request: pytest.FixtureRequest, node: str, secantus_uri: str) -> Iterator[Apps]:
    """Express and Flask sharing one collection, in each storage mode."""
    mode: Mode = request.param
    collection_name = f"sessions_{mode.name}"
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        secantus_uri, serverSelectionTimeoutMS=int(TIMEOUT * 1000)
    )
    collection = client[DB_NAME][collection_name]
    collection.drop()
    flask_app = create_flask_app(secantus_uri, collection_name, mode)
    try:
        with (
            express_app(node, secantus_uri, collection_name, mode) as express,
            flask_server(flask_app) as flask,
        ):
            yield Apps(express, flask, collection, mode)
    finally:
        client.close()


@pytest.fixture
def browser() -> Browser:
    return Browser()


# -- Signing: byte for byte against cookie-signature -------------------------


SIGNING_CASES = [
    ("Qx8kVgN0y3H1a3nq1k3Zl2f5rT7wXyZa", "keyboard cat"),
    ("uTa4KZ2q8-5Hc_Wm0pLxY3nRbVdEfGhI", "s3cr3t/+=&ü"),
    ("2asG7rIcgGz2WwqUDZ86ySYyii_mucs4", SECRET),
    ("abc123-SID_xyz.K", "keyboard cat"),
    ("apple", "日本語の秘密"),
    ("%", "keyboard cat"),
    ("/foo", "emoji 🍪 secret"),
    ("a.b.c", "x"),
    ("", "keyboard cat"),
    ("sid with spaces & ü", "tab\tand\nnewline"),
]


def test_signing_matches_cookie_signature_byte_for_byte(node: str) -> None:
    ours = [
        {"sid": sid, "secret": secret, "python": "s:" + sign(sid, secret.encode())}
        for sid, secret in SIGNING_CASES
    ]
    completed = subprocess.run(
        [node, "sign.js"],
        cwd=NODE_DIR,
        input=json.dumps(ours),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    theirs = json.loads(completed.stdout)
    assert len(theirs) == len(SIGNING_CASES)
    for (sid, secret), mine, node_result in zip(SIGNING_CASES, ours, theirs, strict=True):
        key = secret.encode()
        assert mine["python"] == node_result["signed"] == node_result["signed_nested"]
        assert cookie_value(sid, key) == node_result["cookie"]
        # Each side verifies the other's value.
        assert node_result["unsigned"] == sid
        assert unsign(node_result["signed"][2:], [key]) == sid
        assert session_id_from_cookie(decode_uri_component(node_result["cookie"]), [key]) == sid


# -- One login, two apps ------------------------------------------------------


def test_login_on_express_is_seen_by_flask(apps: Apps, browser: Browser) -> None:
    express = browser.get(apps.express, "/login", user="alice")
    assert express["data"] == {"user": "alice"}

    flask = browser.get(apps.flask, "/whoami")
    assert flask == {"id": express["id"], "data": {"user": "alice"}}
    assert browser.sid == express["id"]


def test_login_on_flask_is_seen_by_express(apps: Apps, browser: Browser) -> None:
    flask = browser.get(apps.flask, "/login", user="bob")
    assert flask["data"] == {"user": "bob"}
    assert browser.sid == flask["id"]

    express = browser.get(apps.express, "/whoami")
    assert express["id"] == flask["id"]
    assert express["data"] == {"user": "bob"}


def test_changes_made_in_flask_are_seen_by_express(apps: Apps, browser: Browser) -> None:
    browser.get(apps.express, "/login", user="alice")
    browser.get(apps.flask, "/set", theme="dark")
    browser.get(apps.flask, "/incr", visits=2)

    express = browser.get(apps.express, "/whoami")
    assert same_json(express["data"], {"user": "alice", "theme": "dark", "visits": 2})


def test_changes_made_in_express_are_seen_by_flask(apps: Apps, browser: Browser) -> None:
    browser.get(apps.flask, "/login", user="carol")
    browser.get(apps.flask, "/incr", visits=1)
    browser.get(apps.express, "/incr", visits=2)
    browser.get(apps.express, "/set", lang="fr")

    flask = browser.get(apps.flask, "/incr", visits=4)
    assert same_json(flask["data"], {"user": "carol", "visits": 7, "lang": "fr"})
    assert same_json(browser.get(apps.express, "/whoami")["data"]["visits"], 7)


def test_regenerate_in_flask_makes_express_reject_the_old_cookie(
    apps: Apps, browser: Browser
) -> None:
    browser.get(apps.express, "/login", user="alice")
    old_cookie, old_sid = browser.cookie, browser.sid

    regenerated = browser.get(apps.flask, "/regenerate")
    assert regenerated["id"] != old_sid
    assert regenerated["data"] == {"user": "alice"}
    assert browser.sid == regenerated["id"]
    assert apps.collection.find_one({"_id": old_sid}) is None

    thief = Browser()
    thief.cookie = old_cookie
    stale = thief.get(apps.express, "/whoami")
    assert stale["id"] != old_sid
    assert stale["data"] == {}
    assert thief.set_cookies == []  # an uninitialized session is not saved

    assert browser.get(apps.express, "/whoami")["data"] == {"user": "alice"}


def test_regenerate_in_express_makes_flask_reject_the_old_cookie(
    apps: Apps, browser: Browser
) -> None:
    browser.get(apps.flask, "/login", user="dave")
    old_cookie, old_sid = browser.cookie, browser.sid

    relogin = browser.get(apps.express, "/login", user="dave")
    assert relogin["id"] != old_sid

    thief = Browser()
    thief.cookie = old_cookie
    stale = thief.get(apps.flask, "/whoami")
    assert stale["id"] != old_sid
    assert stale["data"] == {}
    assert thief.set_cookies == []

    assert browser.get(apps.flask, "/whoami")["data"] == {"user": "dave"}


def test_a_session_express_keeps_alive_by_touch_stays_live_in_flask(
    apps: Apps, browser: Browser
) -> None:
    """connect-mongo's touch moves only the top-level ``expires`` (connect-mongo#351).

    So a session Express keeps alive by reading it ends up with a
    ``cookie.expires`` in its stored JSON that is already past, while the
    document is live.  Express treats it as live; so must Flask.
    """
    browser.get(apps.express, "/login", user="alice")
    sid = browser.sid
    assert sid is not None
    apps.set_stored_cookie_expires(sid, datetime(2020, 1, 1, tzinfo=timezone.utc))

    assert browser.get(apps.express, "/whoami")["data"] == {"user": "alice"}
    assert browser.get(apps.flask, "/whoami") == {"id": sid, "data": {"user": "alice"}}
    assert browser.get(apps.express, "/whoami")["data"] == {"user": "alice"}


#: JSON values both apps must keep exactly, types included (no 1.0: JavaScript
#: writes it as 1).
JSON_VALUES = {
    "nested": {"a": [1, 2, {"b": None}], "c": {"d": True}},
    "unicode": 'héllo ☕ 日本語 \u2028 "quoted"',
    "number": 1.5,
    "int": 2**31 - 1,
    "empty": [],
}
#: In JSON text these stay integers.  As BSON (``stringify=False``) Node writes
#: every number outside int32 as a double, so they come back as floats.
LARGE_INTS = {"int64": 2**31, "big": 2**53}


def same_json(left: object, right: object) -> bool:
    """Equal as JSON text, so 7 and 7.0 differ (Python's == would say equal)."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


@pytest.mark.parametrize(("writer", "reader"), [("flask", "express"), ("express", "flask")])
def test_json_data_round_trips_between_the_apps(
    apps: Apps, browser: Browser, writer: str, reader: str
) -> None:
    values = dict(JSON_VALUES)
    if apps.mode.stringify or writer == "flask":
        values.update(LARGE_INTS)
    browser.get(getattr(apps, writer), "/login", user="json")
    query = {key: json.dumps(value) for key, value in values.items()}
    written = browser.get(getattr(apps, writer), "/json", **query)
    assert same_json(written["data"], {"user": "json", **values})

    assert same_json(browser.get(getattr(apps, reader), "/whoami")["data"], written["data"])


@pytest.mark.parametrize("logout_on", ["express", "flask"])
def test_logout_on_either_app_ends_the_session_on_both(
    apps: Apps, browser: Browser, logout_on: str
) -> None:
    browser.get(apps.flask, "/login", user="erin")
    sid, cookie = browser.sid, browser.cookie

    browser.get(getattr(apps, logout_on), "/logout")
    assert apps.collection.find_one({"_id": sid}) is None

    for base_url in (apps.express, apps.flask):
        replay = Browser()
        replay.cookie = cookie
        assert replay.get(base_url, "/whoami")["data"] == {}


def test_both_apps_write_the_same_document_shape(apps: Apps) -> None:
    by_express, by_flask = Browser(), Browser()
    by_express.get(apps.express, "/login", user="node")
    by_flask.get(apps.flask, "/login", user="python")

    express_doc = apps.collection.find_one({"_id": by_express.sid})
    flask_doc = apps.collection.find_one({"_id": by_flask.sid})
    assert express_doc is not None
    assert flask_doc is not None
    assert set(express_doc) == {"_id", "session", "expires"}
    # Flask adds its compare-and-set token and the record beside them (connect-mongo
    # ignores both, and its own writes leave them in place).
    record = {"rev", "user", "createdAt", "lastSeenAt", "ip", "userAgent"}
    assert set(flask_doc) == set(express_doc) | record
    for doc in (express_doc, flask_doc):
        assert isinstance(doc["expires"], datetime)
        if apps.mode.crypto_secret is not None:
            assert isinstance(doc["session"], str)
            with pytest.raises(ValueError):
                json.loads(doc["session"])
            continue
        if apps.mode.stringify:
            assert isinstance(doc["session"], str)
            stored = json.loads(doc["session"])
        else:
            stored = doc["session"]
            assert isinstance(stored["cookie"]["expires"], datetime)
        assert abs(stored["cookie"]["originalMaxAge"] - MAX_AGE * 1000) <= 1
        assert stored["cookie"]["httpOnly"] is True
        assert stored["cookie"]["path"] == "/"
    if not apps.mode.stringify:
        # connect-mongo's object serializer keeps absent cookie keys as nulls.
        assert flask_doc["session"]["cookie"].keys() == express_doc["session"]["cookie"].keys()


def test_both_apps_send_the_same_set_cookie_form(apps: Apps) -> None:
    by_express, by_flask = Browser(), Browser()
    by_express.get(apps.express, "/login", user="node")
    by_flask.get(apps.flask, "/login", user="python")

    def shape(browser: Browser) -> str:
        [header] = browser.set_cookies
        assert browser.cookie is not None
        value_removed = header.replace(browser.cookie, "<value>")
        expires = value_removed.split("Expires=")[1].split(";")[0]
        assert abs((parsedate_to_datetime(expires) - now()).total_seconds() - MAX_AGE) < 60
        return value_removed.replace(expires, "<date>")

    assert shape(by_flask) == shape(by_express)
    assert shape(by_express) == f"{COOKIE_NAME}=<value>; Path=/; Expires=<date>; HttpOnly"


# -- Start-up order -----------------------------------------------------------


def test_flask_first_then_express_on_a_new_collection(node: str, secantus_uri: str) -> None:
    """Our TTL index must not stop connect-mongo's start-up, and the reverse.

    connect-mongo creates ``expires_1`` before its first operation, and every
    request fails if that is refused as a conflicting index.
    """
    collection_name = "sessions_flask_first"
    with pymongo.MongoClient(secantus_uri, serverSelectionTimeoutMS=5000) as client:
        client[DB_NAME].drop_collection(collection_name)
    browser = Browser()
    flask_app = create_flask_app(secantus_uri, collection_name, CRYPTO)
    with flask_server(flask_app) as flask:
        browser.get(flask, "/login", user="first")
        with express_app(node, secantus_uri, collection_name, CRYPTO) as express:
            assert browser.get(express, "/whoami")["data"] == {"user": "first"}
            browser.get(express, "/set", seen="yes")
        assert browser.get(flask, "/whoami")["data"] == {"user": "first", "seen": "yes"}


def test_a_session_encrypted_with_another_secret_reads_as_no_session(
    node: str, secantus_uri: str
) -> None:
    """A document the store cannot decrypt is no session (and a new one), not a 500."""
    collection_name = "sessions_other_secret"
    browser = Browser()
    node_mode = Mode("node secret", crypto_secret="the Node app's secret")
    with express_app(node, secantus_uri, collection_name, node_mode) as express:
        browser.get(express, "/login", user="mallory")
        sid = browser.sid
    flask_app = create_flask_app(secantus_uri, collection_name, CRYPTO)
    with flask_server(flask_app) as flask:
        seen = browser.get(flask, "/whoami")
    assert seen["id"] != sid
    assert seen["data"] == {}


def test_touch_after_on_both_sides_keeps_last_modified_out_of_flask_data(
    node: str, secantus_uri: str
) -> None:
    """connect-mongo's ``touchAfter`` adds ``lastModified`` to the document.

    Flask must not see it as session data, must not touch within
    ``touch_after`` once it has recorded the session (its first read of a
    session Express created writes the record), and its own writes must keep
    the field connect-mongo throttles on.
    """
    mode = Mode("touch_after", touch_after=600)
    collection_name = "sessions_touch_after"
    browser = Browser()
    with (
        pymongo.MongoClient(secantus_uri, serverSelectionTimeoutMS=5000) as client,
        express_app(node, secantus_uri, collection_name, mode) as express,
        flask_server(create_flask_app(secantus_uri, collection_name, mode)) as flask,
    ):
        collection = client[DB_NAME][collection_name]
        browser.get(express, "/login", user="alice")
        written_by_express = collection.find_one({"_id": browser.sid})
        assert written_by_express is not None
        assert isinstance(written_by_express["lastModified"], datetime)

        assert browser.get(flask, "/whoami")["data"] == {"user": "alice"}
        # The first time Flask sees the session it records it (api.md section 8)...
        recorded = collection.find_one({"_id": browser.sid})
        assert recorded is not None and isinstance(recorded["createdAt"], datetime)
        assert recorded["lastModified"] >= written_by_express["lastModified"]
        assert browser.get(flask, "/whoami")["data"] == {"user": "alice"}
        assert collection.find_one({"_id": browser.sid}) == recorded  # ...then no touch

        assert browser.get(flask, "/set", theme="dark")["data"] == {
            "user": "alice",
            "theme": "dark",
        }
        written_by_flask = collection.find_one({"_id": browser.sid})
        assert written_by_flask is not None
        assert written_by_flask["lastModified"] >= written_by_express["lastModified"]
        assert "lastModified" not in json.loads(written_by_flask["session"])

        # connect-mongo itself copies lastModified into req.session; the rest is ours.
        seen_by_express = browser.get(express, "/whoami")["data"]
        assert seen_by_express.pop("lastModified", None) is not None
        assert seen_by_express == {"user": "alice", "theme": "dark"}


FOREIGN_TAGS = [
    {" m": "<script>alert(1)</script>"},
    {" t": ["<img src=x onerror=alert(1)>", 1]},
    {" m": "<b>x</b>", " s": "AAAAAAAAAAAAAAAA"},
]


@pytest.mark.parametrize("value", FOREIGN_TAGS, ids=["markup", "tuple", "forged-mark"])
def test_tag_shaped_data_an_express_app_stored_stays_data_in_flask(
    apps: Apps, browser: Browser, value: dict[str, Any]
) -> None:
    """A Node app that saves a JSON body in the session: no stored XSS in Flask."""
    browser.get(apps.express, "/login", user="mallory")
    browser.get(apps.express, "/json", bio=json.dumps(value))
    rendered = browser.get(apps.flask, "/render/bio")
    assert rendered["type"] == "dict"  # never Markup, never a tuple
    assert "<script>" not in rendered["html"] and "<img" not in rendered["html"]
    browser.get(apps.flask, "/set", seen="yes")  # Flask writes the session back...
    data = browser.get(apps.express, "/whoami")["data"]
    assert same_json(data["bio"], value)  # ...with the foreign value exactly as it was


def test_flask_s_own_markup_survives_an_express_write(apps: Apps, browser: Browser) -> None:
    """Our marked tag is plain JSON to Express, which writes it back unchanged."""
    browser.get(apps.flask, "/login", user="alice")
    browser.get(apps.flask, "/bold")
    browser.get(apps.express, "/set", theme="dark")  # Express rewrites the whole session
    assert browser.get(apps.flask, "/render/note") == {"html": "<b>saved</b>", "type": "Markup"}
