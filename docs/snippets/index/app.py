from flask import Flask, get_flashed_messages, redirect, session
from flask_sessionstore import SessionStore, flash

app = Flask(__name__)
app.config["SECRET_KEY"] = "change me"
SessionStore(app)  # MemoryStore; in production pass store=MongoStore(...)


@app.get("/")
def index():
    return {"user": session.get("user"), "messages": get_flashed_messages()}


@app.post("/login")
def login():
    session.regenerate()  # a new ID at login: no session fixation
    session["user"] = "alice"
    flash("info", "Welcome back, %s!", "alice")
    return redirect("/")  # saved before the redirect leaves
