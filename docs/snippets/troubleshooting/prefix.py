import os

from flask import Flask
from flask_sessionstore import SessionStore
from werkzeug.middleware.proxy_fix import ProxyFix

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
# The proxy serves the app at https://example.com/shop/ and strips the
# prefix; it says so in X-Forwarded-Prefix: /shop.
app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_prefix=1)
app.config["APPLICATION_ROOT"] = "/shop"  # the cookie's Path, too
SessionStore(app)
