"""The demo app: log in, count, flash messages, log out.

Run it with ``make demo`` (``flask --app examples.app run``) and open
http://127.0.0.1:5000.  Sessions live in a ``MemoryStore`` unless
``MONGODB_URI`` is set, in which case they go to MongoDB in connect-mongo's
format (collection ``sessions`` of the URI's database, or of ``MONGODB_DB``).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from flask import Flask, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from flask_sessionstore import MemoryStore, MongoStore, SessionStore, Store, flash

DEV_SECRET = "dev secret: set SECRET_KEY in production"


def make_store() -> Store:
    """MongoStore when ``MONGODB_URI`` is set, else a MemoryStore."""
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
        SessionStore(app, store=store)
    app.jinja_env.globals["store_name"] = type(store).__name__

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
