import os

from flask import Flask
from flask_sessionstore import MongoStore, SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]

# MONGODB_URI: for example mongodb://app:pw@db1,db2,db3/app?replicaSet=rs0
store = MongoStore(
    mongo_url=os.environ["MONGODB_URI"],
    db_name="app",  # default: the URL's database, else "test"
    collection_name="sessions",
)
SessionStore(app, store=store)
