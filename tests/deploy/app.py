"""The WSGI app every deployment-matrix server runs: ``tests.deploy.app:create_app()``.

It is configured by one environment variable, ``DEPLOY_MATRIX``, a JSON
object ``{"store": <StoreKind name>, "url": <store server URL or "">,
"run": <unique id of this server run>, "signals": <marker folder>}``.

The app is a set of small Flask apps, one per *namespace* (a scenario and a
view style: ``/logout/async/...``), each with its own, empty store.  All of
them are built when gunicorn loads the app: with ``--preload`` that is in
the master, before the fork and before gevent patches anything, as in a
real deployment that preloads.

Every namespace serves the same session endpoints, written in its view
style (:data:`VIEW_STYLES`):

* ``def``: plain views;
* ``async``: ``async def`` views, which Flask runs through asgiref on
  another thread than the one that opens and saves the session;
* ``thread``: views that do their session work in a thread started with
  ``copy_current_request_context``, joined before returning.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, copy_current_request_context, jsonify, session
from flask.typing import ResponseReturnValue
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from flask_sessionstore import SessionStore, Store

from .signals import Signals
from .stores import STORE_KINDS

ENV = "DEPLOY_MATRIX"
SECRET = "deployment matrix"
#: The namespaces' first path segment: one per scenario of the test module.
SCENARIOS = ("first", "disjoint", "logout", "logout-pop", "revoke", "overlap")
VIEW_STYLES = ("def", "async", "thread")
#: How long a view in flight waits for the test's go-ahead, at most (seconds).
IN_FLIGHT_WAIT = 3.0
#: The I/O a real view does between reading the session and returning (a
#: database query): a random 0 to 4 ms.  Under gevent it is what lets the
#: worker run other requests between this request's load and its save.
VIEW_IO = 0.004
#: On this signal a worker writes every thread's stack to its log (stderr),
#: even while blocked on a lock: how a deadlocked worker shows where it is stuck.
STACK_DUMP_SIGNAL = signal.SIGRTMIN + 2

Body = Callable[..., dict[str, Any]]


def revoke(store: Store, sid: str) -> None:
    """The admin action "end this session now" (``SessionStore.revoke(sid)`` once it exists)."""
    store.destroy(sid)


def session_state() -> dict[str, Any]:
    """What a response tells the test about the request's session."""
    return {"sid": session.id, "new": session.new, "user": session.get("user")}


def session_endpoints(signals: Signals) -> dict[str, tuple[str, Body]]:
    """The session endpoints: endpoint name -> (rule, body written as a plain function)."""

    def visit() -> dict[str, Any]:
        session["cart"] = []  # an anonymous visitor's first state
        return session_state()

    def whoami() -> dict[str, Any]:
        return session_state()  # read-only: a page view

    def login() -> dict[str, Any]:
        session["user"] = "alice"
        return session_state()

    def change(token: str) -> dict[str, Any]:
        # load and change another key, then stay in flight until the test says go
        session["theme"] = token
        signals.arrive(token)
        released = signals.wait_for_go(token, IN_FLIGHT_WAIT)
        return {**session_state(), "released": released}

    def logout_destroy() -> dict[str, Any]:
        state = session_state()
        session.destroy()
        return state

    def logout_pop() -> dict[str, Any]:
        session.pop("user", None)
        return session_state()

    def incr(key: str) -> dict[str, Any]:
        value = session.get(key, 0) + 1
        time.sleep(random.uniform(0, VIEW_IO))
        session[key] = value
        return {"key": key, "value": value}

    return {
        "visit": ("/visit", visit),
        "whoami": ("/whoami", whoami),
        "login": ("/login", login),
        "change": ("/change/<token>", change),
        "logout_destroy": ("/logout/destroy", logout_destroy),
        "logout_pop": ("/logout/pop", logout_pop),
        "incr": ("/incr/<key>", incr),
    }


def styled(style: str, body: Body) -> Callable[..., Any]:
    """``body`` as a view in ``style`` (see :data:`VIEW_STYLES`)."""
    if style == "def":

        def plain_view(**kwargs: Any) -> ResponseReturnValue:
            return jsonify(body(**kwargs))

        return plain_view

    if style == "async":

        async def async_view(**kwargs: Any) -> ResponseReturnValue:
            await asyncio.sleep(0)  # a real coroutine, run by asgiref's event loop thread
            return jsonify(body(**kwargs))

        return async_view

    if style == "thread":

        def thread_view(**kwargs: Any) -> ResponseReturnValue:
            results: list[dict[str, Any]] = []

            @copy_current_request_context
            def work() -> None:
                results.append(body(**kwargs))

            worker = threading.Thread(target=work, name="session work", daemon=True)
            worker.start()
            worker.join(IN_FLIGHT_WAIT + 10)
            if not results:
                raise RuntimeError("the session work thread failed or did not finish")
            return jsonify(results[0])

        return thread_view

    raise ValueError(f"view style must be one of {', '.join(VIEW_STYLES)}, not {style!r}")


def namespace_app(name: str, style: str, store: Store, signals: Signals) -> Flask:
    """One namespace: the session endpoints in ``style`` on ``store``, plus admin endpoints."""
    app = Flask(f"deploy-{name}")
    app.config["SECRET_KEY"] = SECRET
    SessionStore(app, store=store)
    for endpoint, (rule, body) in session_endpoints(signals).items():
        app.add_url_rule(rule, endpoint, styled(style, body), methods=["GET", "POST"])

    @app.get("/admin/peek/<sid>")
    def peek(sid: str) -> ResponseReturnValue:
        return jsonify({"stored": store.get(sid)})

    @app.post("/admin/revoke/<sid>")
    def revoke_session(sid: str) -> ResponseReturnValue:
        revoke(store, sid)
        return jsonify({"revoked": sid})

    return app


def create_app() -> DispatcherMiddleware:
    """The app gunicorn serves, configured from ``DEPLOY_MATRIX``."""
    config = json.loads(os.environ[ENV])
    faulthandler.register(STACK_DUMP_SIGNAL, all_threads=True)
    kind = STORE_KINDS[config["store"]]
    signals = Signals(config["signals"])
    mounts: dict[str, Any] = {}
    for scenario in SCENARIOS:
        for style in VIEW_STYLES:
            name = f"{scenario}-{style}"
            collection = f"{config['run']}_{name}".replace("-", "_")
            store = kind.build(config["url"], collection)
            mounts[f"/{scenario}/{style}"] = namespace_app(name, style, store, signals)
    return DispatcherMiddleware(Response("deployment matrix: ok\n"), mounts)
