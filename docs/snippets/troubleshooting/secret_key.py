import os

from flask import Flask
from flask_sessionstore import SessionStore

app = Flask(__name__)
# A str (or bytes), set before SessionStore(app): not an int, not empty.
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
SessionStore(app)
