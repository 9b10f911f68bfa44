"""``MongoStore``: sessions in MongoDB, document-compatible with connect-mongo.

(Placeholder while the implementation lands; see issue 3.)
"""

from __future__ import annotations

from typing import Any

from .base import Store, StoredSession


class MongoStore(Store):
    """MongoDB session store (connect-mongo's ``MongoStore``)."""

    def __init__(self, client: Any = None, **options: Any) -> None:
        raise NotImplementedError("MongoStore is not implemented yet")

    def get(self, sid: str) -> StoredSession | None:
        """The live session stored under ``sid``, or None."""
        raise NotImplementedError

    def set(self, sid: str, session: StoredSession) -> None:
        """Upsert the session stored under ``sid``."""
        raise NotImplementedError

    def destroy(self, sid: str) -> None:
        """Remove the session stored under ``sid``."""
        raise NotImplementedError
