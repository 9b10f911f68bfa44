import os

from flask import Flask, request, session
from flask_sessionstore import SessionStore, silent

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
SessionStore(app, idle_timeout=15 * 60)


@app.get("/notifications/count")
@silent
def notification_count():
    return {"count": len(session.get("inbox", []))}


@app.before_request
def polling_is_not_activity():
    if request.headers.get("X-Polling"):
        session.silent = True
