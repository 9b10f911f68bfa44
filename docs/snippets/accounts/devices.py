import os
from datetime import timedelta

from flask import Flask, redirect, request, session, url_for
from flask_sessionstore import SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
sessions = SessionStore(
    app,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=12),
    max_sessions_per_user=5,
)


@app.post("/login")
def login():
    session.regenerate()  # a new ID at login
    session["_user_id"] = request.form["user"]  # what Flask-Login writes
    return redirect(url_for("devices"))


@app.get("/devices")
def devices():
    return [
        {
            "id": device.id,
            "this device": device.current,
            "browser": device.user_agent,
            "ip": device.ip,
            "last seen": device.last_seen_at.isoformat(),
        }
        for device in sessions.sessions_of(session["_user_id"])
    ]


@app.post("/devices/<sid>/revoke")
def revoke_device(sid):
    mine = {d.id for d in sessions.sessions_of(session["_user_id"])}
    if sid in mine:  # only the user's own sessions
        sessions.revoke(sid)
    return redirect(url_for("devices"))


@app.post("/password")
def change_password():
    # ... store the new password hash ...
    sessions.revoke_user(session["_user_id"], keep_current=True)
    session.regenerate(keep_data=True)  # a new ID for this device too
    return redirect(url_for("devices"))
