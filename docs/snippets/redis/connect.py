import os

from flask import Flask
from flask_sessionstore import RedisStore, SessionStore

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
# REDIS_URL is for example redis://:password@redis.internal:6379/0
store = RedisStore(url=os.environ["REDIS_URL"])
SessionStore(app, store=store)
