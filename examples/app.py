"""The demo app: log in, count, flash messages, your devices, log out.

Run it with ``make demo`` (``flask --app examples.app run``) and open
http://127.0.0.1:5000.  Sessions live in a ``MemoryStore`` unless
``REDIS_URL`` is set (RedisStore, connect-redis's format) or ``MONGODB_URI``
is (MongoStore, connect-mongo's format, collection ``sessions`` of the URI's
database, or of ``MONGODB_DB``).  A session unused for ``DEMO_IDLE_TIMEOUT``
seconds (default 120, short enough to watch) ends.
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timezone
from typing import Any

from flask import Flask, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from flask_sessionstore import (
    MemoryStore,
    MongoStore,
    RedisStore,
    SessionStore,
    Store,
    flash,
)

DEV_SECRET = "dev secret: set SECRET_KEY in production"
_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_name(user_agent: str | None) -> str:
    """A short name for a ``User-Agent``: "Chrome on Linux", or the agent itself."""
    if not user_agent:
        return "Unknown browser"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or user_agent[:60]


def ago(moment: datetime | None) -> str:
    """``just now``, ``3 minutes ago``, ``2 hours ago``..."""
    if moment is None:
        return "never"
    seconds = int((datetime.now(timezone.utc) - moment).total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def make_store() -> Store:
    """RedisStore when ``REDIS_URL`` is set, MongoStore for ``MONGODB_URI``, else memory."""
    if os.environ.get("REDIS_URL"):
        return RedisStore(url=os.environ["REDIS_URL"])
    uri = os.environ.get("MONGODB_URI")
    if uri:
        return MongoStore(mongo_url=uri, db_name=os.environ.get("MONGODB_DB") or None)
    return MemoryStore()


def create_app(store: Store | None = None, **config: Any) -> Flask:
    """Build the demo app; ``store`` and ``config`` are for tests."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", DEV_SECRET),
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config)
    store = store if store is not None else make_store()
    with warnings.catch_warnings():
        # The demo is one process on purpose, so MemoryStore is fine here. The
        # warning exists for production deployments, where it still fires.
        warnings.filterwarnings("ignore", "flask-sessionstore is using MemoryStore")
        sessions = SessionStore(
            app,
            store=store,
            user_key="user",  # the owner of a session, for the devices page
            idle_timeout=float(os.environ.get("DEMO_IDLE_TIMEOUT", 120)),
        )
    app.jinja_env.filters.update(browser_name=browser_name, ago=ago)
    app.jinja_env.globals["store_name"] = type(store).__name__
    app.jinja_env.globals["idle_timeout"] = app.extensions["sessionstore"].timeouts.idle

    @app.get("/")
    def index() -> str:
        return render_template("index.html", user=session.get("user"))

    @app.post("/login")
    def login() -> Response:
        name = request.form.get("username", "").strip()
        if not name:
            flash("error", "Please enter a name.")
            return redirect(url_for("index"))
        # A new session ID at login, so an ID planted before login is worthless.
        session.regenerate()
        session["user"] = name
        session["count"] = 0
        flash("success", "Welcome, %s!", name)
        return redirect(url_for("index"))

    @app.post("/count")
    def count() -> Response:
        if "user" not in session:
            flash("error", "Log in first.")
            return redirect(url_for("index"))
        session["count"] = session.get("count", 0) + 1
        return redirect(url_for("index"))

    @app.get("/devices")
    def devices() -> Response | str:
        user = session.get("user")
        if user is None:
            flash("error", "Log in first.")
            return redirect(url_for("index"))
        return render_template("devices.html", user=user, devices=sessions.sessions_of(user))

    @app.post("/devices/<sid>/revoke")
    def revoke_device(sid: str) -> Response:
        user = session.get("user")
        mine = {device.id for device in sessions.sessions_of(user)} if user else set()
        if sid in mine and sid != session.id:  # only your own, other sessions
            sessions.revoke(sid)
            flash("info", "That device is logged out.")
        return redirect(url_for("devices"))

    @app.post("/devices/logout-others")
    def logout_other_devices() -> Response:
        user = session.get("user")
        if user:
            count = sessions.revoke_user(user, keep_current=True)
            flash("info", "Logged out %d other device(s).", count)
        return redirect(url_for("devices"))

    @app.post("/password")
    def change_password() -> Response:
        user = session.get("user")
        if user:
            # (a real app stores the new password hash here)
            count = sessions.revoke_user(user, keep_current=True)
            session.regenerate(keep_data=True)  # a new ID for this device too
            flash("success", "Password changed; %d other device(s) logged out.", count)
        return redirect(url_for("devices"))

    @app.post("/logout")
    def logout() -> Response:
        name = session.get("user")
        session.destroy()  # gone from the store now; the response expires the cookie
        if name:
            # A destroyed session takes no more data: start a fresh one for the message.
            session.regenerate()
            flash("info", "Goodbye, %s. You are logged out.", name)
        return redirect(url_for("index"))

    return app


app = create_app()
