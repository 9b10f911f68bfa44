import os

from flask import Flask
from flask_sessionstore import MongoStore, SessionStore

app = Flask(__name__)
SessionStore(
    app,
    name="connect.sid",  # express-session's cookie name
    secret=[os.environ["SESSION_SECRET"]],  # Express: secret: [...]
    store=MongoStore(
        mongo_url=os.environ["MONGODB_URI"],
        collection_name="sessions",
    ),
    cookie={"max_age": 24 * 3600, "same_site": "lax"},  # seconds
)
