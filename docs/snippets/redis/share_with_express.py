import os

from flask import Flask
from flask_sessionstore import RedisStore, SessionStore

app = Flask(__name__)
SessionStore(
    app,
    name="connect.sid",  # express-session's cookie name
    secret=os.environ["SESSION_SECRET"],  # the Express app's secret
    store=RedisStore(url=os.environ["REDIS_URL"], prefix="sess:"),
    cookie={"max_age": 3600},  # express: cookie.maxAge 3600000 (ms)
)
