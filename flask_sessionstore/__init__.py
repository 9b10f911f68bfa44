"""Server-side sessions for Flask with express-session's semantics.

A signed session-ID cookie, session data in a pluggable store (in memory by
default, MongoDB in production, document-compatible with connect-mongo) and
connect-flash style flash messages that work with Flask's own.
"""

__version__ = "0.1.0"

from .cookie import Cookie as Cookie
from .extension import SessionStore as SessionStore
from .flash import flash as flash
from .session import ServerSession as ServerSession
from .stores.base import Store as Store
from .stores.memory import MemoryStore as MemoryStore
from .stores.mongo import MongoStore as MongoStore

__all__ = [
    "Cookie",
    "MemoryStore",
    "MongoStore",
    "ServerSession",
    "SessionStore",
    "Store",
    "flash",
]
