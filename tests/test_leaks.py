"""Small leaks the tracker measured: bounded caches, no per-thread memory.

* The verified-cookie cache was keyed on the whole ``Cookie`` header, so one
  valid cookie plus 64 KB of other cookies, varied per request, could add
  4,096 x 64 KB to each worker.  Only headers of up to 512 characters are
  remembered now (at most about 2 MB); longer ones are verified each time.
* No module keeps request state in a ``threading.local`` (a load and its
  save are linked through the request's own session object).
"""

from __future__ import annotations

import ast
from pathlib import Path

from flask import Flask, session

from flask_sessionstore import MemoryStore, SessionStore

PACKAGE = Path(__file__).resolve().parent.parent / "flask_sessionstore"


def test_the_verified_cookie_cache_never_keeps_long_headers() -> None:
    app = Flask("leak")
    app.config.update(SECRET_KEY="k", TESTING=True)
    SessionStore(app, store=MemoryStore())

    @app.get("/")
    def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client(use_cookies=False)
    first = client.get("/")
    ours = first.headers["Set-Cookie"].split(";")[0]
    for i in range(200):
        padding = f"tracker{i}={'x' * 4000}"
        response = client.get("/", headers={"Cookie": f"{padding}; {ours}"})
        assert response.text == str(i + 2)
    cache = app.session_interface.verified_ids  # type: ignore[attr-defined]
    assert all(len(header) <= 512 for header in cache)
    assert sum(len(header) for header in cache) < 2000
    client.get("/", headers={"Cookie": ours})  # a short header is remembered
    assert ours in cache


def test_an_oversized_cookie_value_is_verified_but_not_remembered() -> None:
    app = Flask("leak")
    app.config.update(SECRET_KEY="k", TESTING=True)
    SessionStore(app, store=MemoryStore(), genid=lambda request: "x" * 500)

    @app.get("/")
    def index() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    client = app.test_client()
    client.get("/")
    assert client.get("/").text == "2"
    assert app.session_interface.verified_ids == {}  # type: ignore[attr-defined]


def test_no_module_keeps_per_thread_state() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "local":
                raise AssertionError(f"{path.name} uses threading.local (line {node.lineno})")
