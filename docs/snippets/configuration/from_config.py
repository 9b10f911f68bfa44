import os
from datetime import timedelta

from flask import Flask
from flask_sessionstore import MongoStore, SessionStore

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["SECRET_KEY"],
    SECRET_KEY_FALLBACKS=[os.environ["OLD_SECRET_KEY"]],
    SESSION_STORE=MongoStore(mongo_url=os.environ["MONGODB_URI"]),
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_MAX_AGE=timedelta(days=7),
    SESSION_ROLLING=True,
)
sessions = SessionStore()
sessions.init_app(app)
