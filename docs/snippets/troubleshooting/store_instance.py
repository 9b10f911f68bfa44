import os

from flask import Flask
from flask_sessionstore import MongoStore, SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
# A store object, not a name: no connection is made here.
app.config["SESSION_STORE"] = MongoStore(mongo_url=os.environ["MONGODB_URI"])
SessionStore(app)
