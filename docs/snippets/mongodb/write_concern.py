import os

from flask_sessionstore import MongoStore

store = MongoStore(
    mongo_url=os.environ["MONGODB_URI"],
    # a majority of the replica set, journaled, within 5 seconds
    write_concern={"w": "majority", "j": True, "wtimeout": 5000},
)
