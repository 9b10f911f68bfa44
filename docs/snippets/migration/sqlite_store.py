import json
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime

from flask_sessionstore import Store


class SQLiteStore(Store):
    """Sessions in one SQLite table; expired rows are never returned."""

    def __init__(self, path, ttl=14 * 24 * 3600):
        self.path, self.ttl = path, ttl
        with self.db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS sessions"
                " (sid TEXT PRIMARY KEY, data TEXT, expires REAL)"
            )

    @contextmanager
    def db(self):
        connection = sqlite3.connect(self.path)  # one per call: thread-safe
        try:
            with connection:  # one transaction: commit, or roll back
                yield connection
        finally:
            connection.close()

    def expires(self, session):
        expires = session["cookie"].get("expires")  # ISO 8601 or None
        if expires is None:
            return time.time() + self.ttl
        moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
        return moment.timestamp()

    def get(self, sid):
        with self.db() as db:
            row = db.execute(
                "SELECT data FROM sessions WHERE sid = ? AND expires > ?",
                (sid, time.time()),
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def set(self, sid, session):
        with self.db() as db:
            db.execute(
                "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)",
                (sid, json.dumps(session), self.expires(session)),
            )

    def destroy(self, sid):
        with self.db() as db:
            db.execute("DELETE FROM sessions WHERE sid = ?", (sid,))
