import os

from flask import Flask
from flask_sessionstore import SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
# Secure exactly when the request is: on https in production (behind
# ProxyFix), and still sent on http://127.0.0.1:5000 in development.
SessionStore(app, cookie={"secure": "auto"})
