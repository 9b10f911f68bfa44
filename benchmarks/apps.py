"""One small Flask app per setup, identical except for the session layer.

Routes (the same in every setup):

``/``       new visitor, session untouched: returns a constant
``/login``  puts a small, realistic session in place (owner, name, roles,
            counter); ``/login?size=N`` adds a blob of N characters (big sessions)
``/read``   returning visitor reading the session
``/write``  returning visitor modifying the session (increments the counter)
``/count``  the counter, read-only (used to check the load test lost nothing)

The owner is ``_user_id`` (Flask-Login's key, our default ``user_key``), so
our records name an owner in every setup that keeps them.

gunicorn loads ``benchmarks.apps:create_app()``, which reads the setup from
``BENCH_SETUP``, ``BENCH_MONGO_URI`` and ``BENCH_REDIS_URL``.  The same module
runs against the v1 code ("before", :mod:`benchmarks.codebase`), whose
``SessionStore`` has no record options and which has no ``RedisStore``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request, session

SECRET = "benchmark secret, not for production"
#: What the "no session" baseline's clients carry instead of a session cookie, so
#: that the test client's cookie-jar work is not billed to the session layers.
PLACEBO_COOKIE = "s%3A" + "x" * 32 + "." + "y" * 43
DB_NAME = "flask_sessionstore_bench"
#: The records-off options: the closest there is to "no records" (api.md section 8).
RECORDS_OFF = {"user_key": False, "track_client": False}


@dataclass(frozen=True)
class Setup:
    key: str
    label: str
    #: "memory", "mongo", "redis" or None: which peer setup it is compared with.
    family: str | None
    ours: bool
    mongo: bool = False
    redis: bool = False
    #: False: ours with ``user_key=False, track_client=False``.
    records: bool = True


SETUPS = [
    Setup("none", "no session", None, False),
    Setup("cookie", "Flask cookie session", None, False),
    Setup("fs-simplecache", "Flask-Session SimpleCache", "memory", False),
    Setup("fs-mongo", "Flask-Session MongoDB", "mongo", False, mongo=True),
    Setup("fs-redis", "Flask-Session Redis", "redis", False, redis=True),
    Setup("ours-memory", "ours MemoryStore", "memory", True),
    Setup("ours-mongo", "ours MongoStore", "mongo", True, mongo=True),
    Setup("ours-redis", "ours RedisStore", "redis", True, redis=True),
    Setup("ours-memory-norec", "ours MemoryStore, records off", "memory", True, records=False),
    Setup(
        "ours-mongo-norec", "ours MongoStore, records off", "mongo", True, mongo=True, records=False
    ),
    Setup(
        "ours-redis-norec", "ours RedisStore, records off", "redis", True, redis=True, records=False
    ),
]
BY_KEY = {setup.key: setup for setup in SETUPS}
#: The setups the v1 code can run (it has no RedisStore and no record options).
BEFORE_SETUPS = ["none", "ours-memory", "ours-mongo"]


def peer_of(setup: Setup) -> Setup | None:
    """The Flask-Session setup that ``setup`` (one of ours) is compared with."""
    for other in SETUPS:
        if other.family == setup.family and not other.ours and setup.ours:
            return other
    return None


def records_on(setup: Setup) -> Setup | None:
    """For a records-off setup, the same store with the defaults."""
    return BY_KEY.get(setup.key.removesuffix("-norec")) if not setup.records else None


def mongo_store_available() -> str | None:
    """None when our MongoStore works, else why it cannot be benchmarked."""
    try:
        import mongomock

        from flask_sessionstore import MongoStore

        MongoStore(client=mongomock.MongoClient(), db_name=DB_NAME)
    except NotImplementedError:
        return "MongoStore is not implemented yet"
    except Exception as exc:  # any failure means: skip it and say why
        return f"MongoStore could not be built: {type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def _flask_session_accepts_mongomock() -> Iterator[None]:
    """Flask-Session only accepts a pymongo client (isinstance); see toolchain.md §1."""
    import flask_session.mongodb.mongodb as fsm
    import mongomock

    original = fsm.MongoClient
    fsm.MongoClient = mongomock.MongoClient
    try:
        yield
    finally:
        fsm.MongoClient = original


def mongo_client(mongo_uri: str | None, **kwargs: Any) -> Any:
    """A pymongo client for ``mongo_uri``, or a fresh mongomock client when it is None."""
    if mongo_uri is None:
        import mongomock

        return mongomock.MongoClient()
    import pymongo

    return pymongo.MongoClient(mongo_uri, **kwargs)


def redis_client(redis_url: str, **kwargs: Any) -> Any:
    import redis

    return redis.Redis.from_url(redis_url, **kwargs)


def build_app(
    key: str,
    mongo_uri: str | None = None,
    client: Any = None,
    store_options: dict[str, Any] | None = None,
    redis_url: str | None = None,
) -> Flask:
    """The app of setup ``key``; Mongo and Redis setups use ``client`` if given.

    Otherwise Mongo setups connect to ``mongo_uri`` (mongomock when None) and
    Redis setups to ``redis_url``.  ``store_options`` are extra keywords for
    our store.
    """
    setup = BY_KEY[key]
    app = Flask(f"bench_{key.replace('-', '_')}")
    if setup.key != "none":
        app.config["SECRET_KEY"] = SECRET
    if setup.mongo and client is None:
        client = mongo_client(mongo_uri)
    if setup.redis and client is None:
        if not redis_url:
            raise ValueError(f"setup {key} needs a Redis URL")
        client = redis_client(redis_url)

    if setup.key == "fs-simplecache":
        from cachelib import SimpleCache
        from flask_session import Session

        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache())
        Session(app)
    elif setup.key == "fs-mongo":
        from flask_session import Session

        app.config.update(SESSION_TYPE="mongodb", SESSION_MONGODB=client)
        if mongo_uri is None and not _is_pymongo(client):
            with _flask_session_accepts_mongomock():
                Session(app)
        else:
            Session(app)
    elif setup.key == "fs-redis":
        from flask_session import Session

        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client)
        Session(app)
    elif setup.ours:
        from flask_sessionstore import MemoryStore, MongoStore, SessionStore

        options = store_options or {}
        if setup.mongo:
            store: Any = MongoStore(client=client, db_name=DB_NAME, **options)
        elif setup.redis:
            from flask_sessionstore import RedisStore

            store = RedisStore(client, **options)
        else:
            store = MemoryStore(**options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # MemoryStore outside debug
            SessionStore(app, store=store, **({} if setup.records else RECORDS_OFF))

    with_session = setup.key != "none"

    @app.get("/")
    def untouched() -> str:
        return "hello"

    @app.get("/login")
    def login() -> Response:
        response = Response("ok")
        if with_session:
            session.update(_user_id="42", name="alice", roles=["user", "editor"], n=0)
            size = request.args.get("size", type=int)
            if size:
                session["blob"] = "x" * size
        else:
            response.set_cookie("session", PLACEBO_COOKIE, httponly=True)
        return response

    @app.get("/read")
    def read() -> str:
        if not with_session:
            return "alice 0"
        return f"{session.get('name')} {session.get('n', 0)}"

    @app.get("/write")
    def write() -> str:
        if not with_session:
            return "1"
        n = session.get("n", 0) + 1
        session["n"] = n
        return str(n)

    @app.get("/count")
    def count() -> str:
        return str(session.get("n", 0)) if with_session else "0"

    return app


def _is_pymongo(client: Any) -> bool:
    import pymongo

    return isinstance(client, pymongo.MongoClient)


def create_app() -> Flask:
    """gunicorn's entry point: the setup named by ``BENCH_SETUP``."""
    return build_app(
        os.environ["BENCH_SETUP"],
        os.environ.get("BENCH_MONGO_URI") or None,
        redis_url=os.environ.get("BENCH_REDIS_URL") or None,
    )
