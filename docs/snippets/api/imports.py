from flask_sessionstore import (
    Cookie,
    MemoryStore,
    MongoStore,
    ServerSession,
    SessionStore,
    Store,
    flash,
)
