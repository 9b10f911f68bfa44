"""Every code file the docs include from ``docs/snippets/`` runs, and does what the page says.

Each test below runs one snippet (or a group that belongs together) the way
a reader would use it, then checks the page's claim about it.  Snippets are
loaded as modules under a name of their own, so ``Flask(__name__)`` finds
templates beside the file, in an environment with the variables the docs
tell the reader to set (``MONGODB_URI`` points at the SecantusDB server the
test suite starts, one database per snippet).

``test_every_snippet_is_run_or_pending`` keeps the list complete: a new file
under ``docs/snippets`` needs a test here or an entry in ``PENDING``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import unquote

import pymongo
import pytest
from flask import Flask, session
from freezegun import freeze_time

import flask_sessionstore
from flask_sessionstore import MemoryStore, MongoStore, SessionStore
from tests.docs_build import SNIPPETS, BuiltDocs, built_docs, code_blocks, snippet_files
from tests.mongo_server import secantus_uri
from tests.quickstart_client import drive
from tests.redis_server import redis_url

__all__ = ["built_docs", "redis_url", "secantus_uri"]  # the fixtures, imported for pytest

# Snippets the docs show but the suite does not run yet, each waiting for a
# change to the package.  To switch one on, delete its line: the test that
# covers it (or the skip below, for the testing module) then runs it.
PENDING: dict[str, str] = {}

ROOT = Path(__file__).resolve().parent.parent

#: Each test's snippet files, relative to docs/snippets (filled by @covers).
COVERED: dict[str, str] = {}

F = TypeVar("F", bound=Callable[..., None])


def covers(*names: str) -> Callable[[F], F]:
    """Mark a test as the one that runs these snippet files."""

    def mark(test: F) -> F:
        for name in names:
            assert name not in COVERED, f"{name} is covered twice"
            COVERED[name] = test.__name__
        pending = [PENDING[name] for name in names if name in PENDING]
        if pending:
            return pytest.mark.skip(reason=f"pending: {pending[0]}")(test)  # type: ignore[no-any-return]
        return test

    return mark


class Snippets:
    """Loads snippet files as a reader would run them."""

    counter = itertools.count()

    def __init__(self, mongo_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.database = f"docs_snippet_{next(self.counter)}"
        self.client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
        self.client.drop_database(self.database)
        self.tmp_path = tmp_path
        self.loaded: list[str] = []
        self.modules: list[ModuleType] = []
        for name, value in {
            "SECRET_KEY": "docs secret",
            "OLD_SECRET_KEY": "the previous docs secret",
            "OLD_SECRET_KEYS": "",
            "SESSION_SECRET": "keyboard cat",
            "SESSION_CRYPTO_SECRET": "docs crypto secret",
            "MONGODB_URI": mongo_uri + self.database,
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)

    @property
    def db(self) -> Any:
        return self.client[self.database]

    def load(self, name: str) -> ModuleType:
        """Run ``docs/snippets/<name>`` as a module; only the MemoryStore warning is allowed."""
        path = SNIPPETS / name
        module_name = "docs_snippet_" + re.sub(r"\W", "_", name.removesuffix(".py"))
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # Flask(__name__) finds its folder through it
        self.loaded.append(module_name)
        self.modules.append(module)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spec.loader.exec_module(module)
        for warning in caught:
            if issubclass(warning.category, ResourceWarning):
                continue  # the garbage collector finishing another test's objects
            shown = f"{warning.category.__name__}: {warning.message} ({warning.filename})"
            assert issubclass(warning.category, RuntimeWarning), shown
            assert "MemoryStore" in str(warning.message), shown
        return module

    def close(self) -> None:
        """Forget the modules and close the MongoDB clients their stores opened."""
        for module in self.modules:
            stores = [getattr(module, "store", None)]
            app = getattr(module, "app", None)
            if isinstance(app, Flask) and "sessionstore" in app.extensions:
                stores.append(app.extensions["sessionstore"].store)
            for store in stores:
                if isinstance(store, MongoStore):
                    store.close()
        for name in self.loaded:
            sys.modules.pop(name, None)
        self.client.close()


@pytest.fixture
def snippets(
    secantus_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Snippets]:
    runner = Snippets(secantus_uri, monkeypatch, tmp_path)
    try:
        yield runner
    finally:
        runner.close()


def add_write_view(app: Flask) -> None:
    """A view that writes to the session, for snippets that define no views."""

    @app.get("/_write")
    def write() -> dict[str, Any]:
        session["user"] = "alice"
        return {"id": session.id}  # type: ignore[attr-defined]


def set_cookie_headers(response: Any) -> list[str]:
    return list(response.headers.getlist("Set-Cookie"))


# --- the pages -----------------------------------------------------------------


@covers("index/app.py")
def test_index_example_logs_in_and_flashes(snippets: Snippets) -> None:
    app = snippets.load("index/app.py").app
    client = app.test_client()
    assert client.get("/").json == {"user": None, "messages": []}
    response = client.post("/login", follow_redirects=True)
    assert response.json == {"user": "alice", "messages": ["Welcome back, alice!"]}


@covers("quickstart/app.py", "quickstart/templates/index.html")
def test_quickstart_app_logs_in_counts_and_logs_out(snippets: Snippets) -> None:
    app = snippets.load("quickstart/app.py").app
    assert isinstance(app.extensions["sessionstore"].store, MemoryStore)
    drive(app)


@covers("quickstart/mongo.py")
def test_quickstart_with_mongodb_changes_only_the_store(snippets: Snippets) -> None:
    memory = (SNIPPETS / "quickstart/app.py").read_text()
    mongo = (SNIPPETS / "quickstart/mongo.py").read_text()
    marker = "# Log in:"
    assert mongo.split(marker)[1] == memory.split(marker)[1], "the views are the same"
    app = snippets.load("quickstart/mongo.py").app
    drive(app)
    # logged out: the goodbye session held the flash and, once it was shown,
    # was empty and removed (unset="destroy"); so nothing is left
    assert snippets.db.sessions.count_documents({}) == 0
    client = app.test_client()
    client.post("/login", data={"username": "zoe"})
    (document,) = snippets.db.sessions.find()
    assert json.loads(document["session"])["cookie"]["sameSite"] == "lax"
    assert document["user"] is None and document["ip"] == "127.0.0.1"  # the record


@covers("configuration/from_config.py")
def test_everything_from_config(snippets: Snippets) -> None:
    app = snippets.load("configuration/from_config.py").app
    add_write_view(app)
    client = app.test_client()
    response = client.get("/_write", base_url="https://localhost")
    (cookie,) = set_cookie_headers(response)
    assert "; Secure" in cookie
    assert "SameSite=Lax" in cookie
    expires = datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %X GMT")
    lifetime = expires.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    again = client.get("/_write", base_url="https://localhost")
    assert set_cookie_headers(again), "SESSION_ROLLING re-sends the cookie"
    assert snippets.db.sessions.count_documents({}) == 1
    assert app.config["SECRET_KEY_FALLBACKS"] == ["the previous docs secret"]


@covers("concepts/keep_cart.py")
def test_regenerate_keep_data_keeps_the_cart(snippets: Snippets) -> None:
    app = snippets.load("concepts/keep_cart.py").app
    client = app.test_client()
    assert client.post("/cart", data={"item": "book"}).json == {"cart": ["book"]}
    before = client.get_cookie("session")
    response = client.post("/login", data={"username": "alice"})
    assert response.json == {"user": "alice", "cart": ["book"]}
    after = client.get_cookie("session")
    assert before is not None and after is not None
    assert after.value != before.value, "a new session ID"


def sessions_app(**config: Any) -> Flask:
    app = Flask("docs_flash")
    app.config.update(SECRET_KEY="docs secret", TESTING=True, **config)
    SessionStore(app)
    return app


@covers("flash/argument_order.py")
def test_both_flash_calls_file_the_same_message(snippets: Snippets) -> None:
    with sessions_app().test_request_context("/"):
        snippets.load("flash/argument_order.py")  # the two lines run inside a view
        assert [tuple(pair) for pair in session["_flashes"]] == [("error", "Wrong password")] * 2


@covers("flash/messages.html")
def test_the_flash_template_shows_both_kinds(snippets: Snippets) -> None:
    app = sessions_app()
    app.template_folder = str(SNIPPETS / "flash")

    @app.get("/")
    def page() -> str:
        flask_sessionstore.flash("info", "Saved")
        import flask

        flask.flash("Wrong password", "error")
        return flask.render_template("messages.html")

    html = app.test_client().get("/").text
    assert '<p class="flash info">Saved</p>' in html
    assert '<p class="flash error">Wrong password</p>' in html


@covers("migration/cookie_sessions.py")
def test_moving_from_cookie_sessions_takes_one_line(snippets: Snippets) -> None:
    app = snippets.load("migration/cookie_sessions.py").app
    add_write_view(app)
    session_id = app.test_client().get("/_write").json["id"]
    assert snippets.db.sessions.find_one({"_id": session_id}) is not None


@covers("migration/sqlite_store.py")
def test_the_sqlite_store_keeps_the_store_contract(snippets: Snippets) -> None:
    module = snippets.load("migration/sqlite_store.py")
    store = module.SQLiteStore(str(snippets.tmp_path / "sessions.db"), ttl=600)
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        app = Flask("docs_sqlite")
        app.config.update(SECRET_KEY="docs secret", TESTING=True)
        SessionStore(app, store=store, cookie={"max_age": 60})
        add_write_view(app)
        client = app.test_client()
        session_id = client.get("/_write").json["id"]
        assert store.get(session_id)["user"] == "alice"
        frozen.tick(61)
        assert store.get(session_id) is None, "an expired session is never returned"
        store.set("browser", {"cookie": {"expires": None}, "n": 1})
        frozen.tick(599)
        assert store.get("browser") == {"cookie": {"expires": None}, "n": 1}
        frozen.tick(2)
        assert store.get("browser") is None, "ttl for browser-session cookies"
        store.set("x", {"cookie": {"expires": None}})
        store.destroy("x")
        store.destroy("x")  # missing is not an error
        assert store.get("x") is None


@covers("mongodb/connect.py")
def test_mongodb_connection_options(snippets: Snippets) -> None:
    snippets.client.drop_database("app")
    app = snippets.load("mongodb/connect.py").app
    add_write_view(app)
    session_id = app.test_client().get("/_write").json["id"]
    assert snippets.client["app"]["sessions"].find_one({"_id": session_id}) is not None


@covers("mongodb/write_concern.py")
def test_majority_journaled_writes(snippets: Snippets) -> None:
    store = snippets.load("mongodb/write_concern.py").store
    session_data = {"cookie": {"originalMaxAge": None, "expires": None}, "user": "alice"}
    store.set("wc", session_data)
    assert store.get("wc")["user"] == "alice"


def express_signature(session_id: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), session_id.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode().rstrip("=")


@covers("mongodb/share_with_express.py")
def test_the_flask_side_of_a_shared_login(snippets: Snippets) -> None:
    app = snippets.load("mongodb/share_with_express.py").app
    add_write_view(app)
    client = app.test_client()
    session_id = client.get("/_write").json["id"]
    cookie = client.get_cookie("connect.sid")
    assert cookie is not None
    signature = express_signature(session_id, "keyboard cat")
    assert unquote(cookie.value) == f"s:{session_id}.{signature}"
    stored = json.loads(snippets.db.sessions.find_one({"_id": session_id})["session"])
    assert stored["cookie"]["originalMaxAge"] == 24 * 3600 * 1000  # express's milliseconds
    assert stored["cookie"]["sameSite"] == "lax"


@covers("security/proxy_fix.py")
def test_proxy_fix_lets_the_secure_cookie_out(snippets: Snippets) -> None:
    app = snippets.load("security/proxy_fix.py").app
    add_write_view(app)
    client = app.test_client()
    assert set_cookie_headers(client.get("/_write")) == [], "plain http: no Secure cookie"
    (cookie,) = set_cookie_headers(client.get("/_write", headers={"X-Forwarded-Proto": "https"}))
    assert "; Secure" in cookie


@covers("security/crypto.py")
def test_crypto_encrypts_the_stored_session(snippets: Snippets) -> None:
    store = snippets.load("security/crypto.py").store
    store.set("enc", {"cookie": {"originalMaxAge": None, "expires": None}, "user": "alice"})
    document = snippets.db.sessions.find_one({"_id": "enc"})
    assert "alice" not in document["session"]
    assert store.get("enc")["user"] == "alice"


@covers("api/imports.py")
def test_the_api_page_imports_every_public_name(snippets: Snippets) -> None:
    module = snippets.load("api/imports.py")
    shown = {name for name in vars(module) if not name.startswith("_")}
    assert shown == set(flask_sessionstore.__all__)


@covers("production/app.py")
def test_the_production_app_behind_a_tls_proxy(snippets: Snippets) -> None:
    app = snippets.load("production/app.py").app
    assert app.config["SECRET_KEY_FALLBACKS"] == []
    add_write_view(app)
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    response = client.get("/_write", headers=headers)
    (cookie,) = set_cookie_headers(response)
    assert "; Secure" in cookie and "SameSite=Lax" in cookie
    assert snippets.db.sessions.find_one({"_id": response.json["id"]}) is not None


def console_lines(docs: BuiltDocs, page: str) -> list[str]:
    lines: list[str] = []
    for block in code_blocks(docs, page):
        if block.language == "console":
            text = block.text.replace("\\\n", " ")
            lines += [line[2:] for line in text.splitlines() if line.startswith("$ ")]
    return lines


@covers()
def test_the_gunicorn_command_lines_load_the_production_app(
    built_docs: BuiltDocs, snippets: Snippets
) -> None:
    shutil.copy(SNIPPETS / "production/app.py", snippets.tmp_path / "app.py")
    commands = [line for line in console_lines(built_docs, "production") if line[:8] == "gunicorn"]
    assert len(commands) == 2, commands  # gthread and gevent
    for line in commands:
        args = [sys.executable, "-m", "gunicorn", *shlex.split(line)[1:], "--check-config"]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"


@covers()
def test_the_secret_generating_command_prints_64_hex_digits(built_docs: BuiltDocs) -> None:
    commands = {
        line
        for page in ("production", "troubleshooting")
        for line in console_lines(built_docs, page)
        if line.startswith("python -c")
    }
    assert len(commands) == 1, commands
    (line,) = commands
    args = [sys.executable, *shlex.split(line)[1:]]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert re.fullmatch(r"[0-9a-f]{64}\n", output)


@covers("troubleshooting/secret_key.py")
def test_the_secret_key_fix(snippets: Snippets) -> None:
    app = snippets.load("troubleshooting/secret_key.py").app
    assert app.secret_key == "docs secret"


@covers("troubleshooting/max_age.py")
def test_max_age_in_seconds_means_one_hour(snippets: Snippets) -> None:
    app = snippets.load("troubleshooting/max_age.py").app
    add_write_view(app)
    (cookie,) = set_cookie_headers(app.test_client().get("/_write"))
    expires = datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %X GMT")
    lifetime = expires.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)


@covers("troubleshooting/store_instance.py")
def test_session_store_takes_a_store_object(snippets: Snippets) -> None:
    app = snippets.load("troubleshooting/store_instance.py").app
    add_write_view(app)
    session_id = app.test_client().get("/_write").json["id"]
    assert snippets.db.sessions.find_one({"_id": session_id}) is not None


@covers("troubleshooting/prefix.py")
def test_an_app_under_a_prefix_behind_proxy_fix(snippets: Snippets) -> None:
    app = snippets.load("troubleshooting/prefix.py").app
    add_write_view(app)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/shop"}
    response = app.test_client().get("/_write", headers=headers)
    (cookie,) = set_cookie_headers(response)
    assert "Path=/shop" in cookie


@covers("troubleshooting/secure_auto.py")
def test_secure_auto_follows_the_request(snippets: Snippets) -> None:
    app = snippets.load("troubleshooting/secure_auto.py").app
    add_write_view(app)
    (plain,) = set_cookie_headers(app.test_client().get("/_write"))
    assert "Secure" not in plain, "sent on http://127.0.0.1:5000 in development"
    response = app.test_client().get("/_write", base_url="https://localhost")
    (secure,) = set_cookie_headers(response)
    assert "; Secure" in secure


@covers(
    "testing/conftest.py",
    "testing/test_login.py",
    "testing/test_session_transaction.py",
    "testing/test_expiry.py",
)
def test_the_testing_page_tests_pass(built_docs: BuiltDocs, tmp_path: Path) -> None:
    folder = tmp_path / "quickstart"
    shutil.copytree(SNIPPETS / "quickstart/templates", folder / "templates")
    shutil.copy(SNIPPETS / "quickstart/app.py", folder / "app.py")
    for test_file in (SNIPPETS / "testing").glob("*.py"):
        shutil.copy(test_file, folder / test_file.name)
    # pip's line is resolved by test_quickstart; this one runs the tests.
    install, command = console_lines(built_docs, "testing")
    assert (install, command) == ("pip install pytest freezegun", "python -m pytest")
    args = [sys.executable, *shlex.split(command)[1:], "-p", "no:cacheprovider", "-q"]
    result = subprocess.run(args, cwd=folder, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b5 passed\b", result.stdout), result.stdout


@covers(
    "testing/plugin/conftest.py",
    "testing/plugin/test_store.py",
    "testing/plugin/test_flask_login.py",
    "testing/plugin/test_browser_cookie.py",
)
def test_the_testing_module_examples_pass(tmp_path: Path) -> None:
    folder = tmp_path / "quickstart"
    shutil.copytree(SNIPPETS / "quickstart/templates", folder / "templates")
    shutil.copy(SNIPPETS / "quickstart/app.py", folder / "app.py")
    for test_file in (SNIPPETS / "testing/plugin").glob("*.py"):
        shutil.copy(test_file, folder / test_file.name)
    # page and live_server_url come from the reader's own setup (pytest-playwright
    # and a live-server fixture); tests/testing_page_fixtures.py stands in for them.
    args = [sys.executable, "-m", "pytest", "-p", "tests.testing_page_fixtures"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SECRET_KEY": "docs secret"}
    result = subprocess.run(
        [*args, "-p", "no:cacheprovider", "-q"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout


def test_every_snippet_is_run_or_pending() -> None:
    files = {str(path.relative_to(SNIPPETS)) for path in snippet_files()}
    assert files - set(COVERED) == set(), "add a test with @covers(...) for these snippets"
    assert set(COVERED) - files == set(), "these covered snippets no longer exist"
    assert set(PENDING) <= files


@covers("accounts/devices.py")
def test_the_devices_page_lists_revokes_and_logs_out_other_devices(snippets: Snippets) -> None:
    app = snippets.load("accounts/devices.py").app

    @app.get("/_whoami")
    def whoami() -> str:
        return str(session.get("_user_id"))

    phone, laptop, tablet = app.test_client(), app.test_client(), app.test_client()
    for client, agent in ((laptop, "Laptop"), (tablet, "Tablet"), (phone, "Phone")):
        client.environ_base["HTTP_USER_AGENT"] = agent
        client.post("/login", data={"user": "alice"})
    listed = phone.get("/devices").json
    assert [d["browser"] for d in listed] == ["Phone", "Tablet", "Laptop"]
    assert [d["this device"] for d in listed] == [True, False, False]
    tablet_sid = listed[1]["id"]
    phone.post(f"/devices/{tablet_sid}/revoke")
    assert [d["browser"] for d in phone.get("/devices").json] == ["Phone", "Laptop"]
    phone.post("/password")
    assert [d["browser"] for d in phone.get("/devices").json] == ["Phone"]
    assert laptop.get("/_whoami").text == "None"  # its next request is anonymous
    assert app.extensions["sessionstore"].max_sessions_per_user == 5


@covers("accounts/polling.py")
def test_polling_is_not_activity(snippets: Snippets) -> None:
    app = snippets.load("accounts/polling.py").app

    @app.post("/_inbox")
    def inbox() -> str:
        session["inbox"] = ["hello"]
        return "ok"

    @app.get("/_page")
    def page() -> str:
        return str(session.get("inbox"))

    client = app.test_client()
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        client.post("/_inbox")
        for _ in range(20):  # every 60 s for 20 minutes: longer than the idle timeout
            frozen.tick(60)
            client.get("/notifications/count")
        assert client.get("/notifications/count").json == {"count": 0}  # timed out
        for polling, expected in ((True, 0), (False, 1)):
            client.post("/_inbox")
            frozen.tick(10 * 60)
            headers = {"X-Polling": "1"} if polling else {}
            client.get("/_page", headers=headers)  # activity only without the header
            frozen.tick(6 * 60)  # 16 minutes after the inbox was filled
            assert client.get("/notifications/count").json == {"count": expected}


@covers("redis/connect.py", "redis/share_with_express.py")
def test_redis_snippets_keep_sessions_in_redis(
    snippets: Snippets, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    from flask_sessionstore import RedisStore

    database = f"{redis_url.rstrip('/0')}/5"
    redis.Redis.from_url(database).flushdb()
    monkeypatch.setenv("REDIS_URL", database)
    for name, cookie in (
        ("redis/connect.py", "session"),
        ("redis/share_with_express.py", "connect.sid"),
    ):
        app = snippets.load(name).app
        assert isinstance(app.extensions["sessionstore"].store, RedisStore)
        add_write_view(app)
        client = app.test_client()
        client.get("/_write")
        assert client.get_cookie(cookie) is not None
    keys = sorted(key.decode() for key in redis.Redis.from_url(database).keys("sess:*"))
    assert len(keys) == 2  # one session per app, connect-redis's key layout


@covers("redis/sentinel.py")
def test_the_sentinel_snippet_builds_a_store_without_touching_the_network(
    snippets: Snippets,
) -> None:
    from flask_sessionstore import RedisStore

    module = snippets.load("redis/sentinel.py")
    assert isinstance(module.store, RedisStore)
    assert module.store.client() is module.master
