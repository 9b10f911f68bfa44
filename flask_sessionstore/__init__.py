"""Server-side sessions for Flask with express-session's semantics.

A signed session-ID cookie, session data in a pluggable store (in memory by
default; MongoDB and Redis in production, compatible with connect-mongo and
connect-redis), connect-flash style flash messages that work with Flask's
own, and account control: a user's sessions, revoking them, idle and
absolute timeouts.
"""

__version__ = "0.2.0"

from .cookie import Cookie as Cookie
from .errors import SessionUnavailable as SessionUnavailable
from .extension import SessionStore as SessionStore
from .flash import flash as flash
from .records import SessionRecord as SessionRecord
from .serialization import SerializationError as SerializationError
from .session import ServerSession as ServerSession
from .silent import silent as silent
from .stores.base import Store as Store
from .stores.errors import SessionTooLargeError as SessionTooLargeError
from .stores.errors import StoreUnavailableError as StoreUnavailableError
from .stores.memory import MemoryStore as MemoryStore
from .stores.mongo import MongoStore as MongoStore
from .stores.redis import RedisStore as RedisStore

__all__ = [
    "Cookie",
    "MemoryStore",
    "MongoStore",
    "RedisStore",
    "SerializationError",
    "ServerSession",
    "SessionRecord",
    "SessionStore",
    "SessionTooLargeError",
    "SessionUnavailable",
    "Store",
    "StoreUnavailableError",
    "flash",
    "silent",
]
