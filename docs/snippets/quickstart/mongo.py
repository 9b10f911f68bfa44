import os

from flask import Flask, redirect, render_template, request, session, url_for
from flask_sessionstore import MongoStore, SessionStore, flash

app = Flask(__name__)
# SECRET_KEY signs the session-ID cookie. In production it comes from
# the environment and is long and random.
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
store = MongoStore(mongo_url=os.environ["MONGODB_URI"])
SessionStore(app, store=store)  # sessions in MongoDB: shared, durable


# Log in: a new session ID first, then the user's data.
@app.post("/login")
def login():
    name = request.form.get("username", "").strip()
    if not name:
        flash("error", "Please enter a name.")
        return redirect(url_for("index"))
    session.regenerate()  # a new ID: an ID planted before login is useless
    session["user"] = name
    session["count"] = 0
    flash("success", "Welcome, %s!", name)
    return redirect(url_for("index"))


# A counter per logged-in browser, kept in its session.
@app.post("/count")
def count():
    if "user" not in session:
        flash("error", "Log in first.")
        return redirect(url_for("index"))
    session["count"] += 1
    return redirect(url_for("index"))


# Log out: the session is destroyed, its ID is worthless from now on.
@app.post("/logout")
def logout():
    name = session.get("user")
    session.destroy()  # removed from the store now; the cookie is expired
    if name:
        session.regenerate()  # a fresh session to carry the goodbye message
        flash("info", "Goodbye, %s.", name)
    return redirect(url_for("index"))


# The home page: the login form, or the counter and the logout button.
@app.get("/")
def index():
    return render_template("index.html")
