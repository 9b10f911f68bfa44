import os

from flask_sessionstore import MongoStore

store = MongoStore(
    mongo_url=os.environ["MONGODB_URI"],
    crypto={"secret": os.environ["SESSION_CRYPTO_SECRET"]},
)
