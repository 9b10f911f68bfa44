import os

from flask import Flask
from flask_sessionstore import MongoStore, SessionStore
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["SECRET_KEY"],
    # Old keys, space-separated, still verify cookies while you rotate.
    SECRET_KEY_FALLBACKS=os.environ.get("OLD_SECRET_KEYS", "").split(),
    SESSION_COOKIE_SECURE=True,  # the cookie only travels over HTTPS
    SESSION_COOKIE_SAMESITE="Lax",
)
# One proxy in front terminates TLS: believe its X-Forwarded-For/-Proto.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)

store = MongoStore(
    mongo_url=os.environ["MONGODB_URI"],
    # Acknowledged by a majority of the replica set and journaled, so a
    # session saved before a redirect survives a failover.
    write_concern={"w": "majority", "j": True},
    timeout=3,  # seconds a request waits for MongoDB, then a 503
)
SessionStore(app, store=store)
