from flask import Flask, request, session
from flask_sessionstore import SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = "change me"
SessionStore(app)


@app.post("/cart")
def add_to_cart():
    session.setdefault("cart", []).append(request.form["item"])
    return {"cart": session["cart"]}


@app.post("/login")
def login():
    session.regenerate(keep_data=True)  # a new ID; the cart stays
    session["user"] = request.form["username"]
    return {"user": session["user"], "cart": session.get("cart", [])}
