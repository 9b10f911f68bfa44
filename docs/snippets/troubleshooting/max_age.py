from datetime import timedelta

from flask import Flask
from flask_sessionstore import SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = "change me"
# express: cookie: { maxAge: 3600000 }, in milliseconds.
# Here: max_age, in seconds (3600) or as a timedelta.
SessionStore(app, cookie={"max_age": timedelta(hours=1)})
