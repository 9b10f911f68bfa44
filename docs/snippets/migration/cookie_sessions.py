import os

from flask import Flask
from flask_sessionstore import MongoStore, SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]  # the same key as before
# The one new line: flask.session now lives in MongoDB.
SessionStore(app, store=MongoStore(mongo_url=os.environ["MONGODB_URI"]))
