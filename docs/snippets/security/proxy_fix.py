import os

from flask import Flask
from flask_sessionstore import SessionStore
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
app.config["SESSION_COOKIE_SECURE"] = True
app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # one trusted proxy hop
SessionStore(app)
