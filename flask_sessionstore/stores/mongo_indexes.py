"""MongoStore's indexes: connect-mongo's TTL index and the owner index, kept in place.

* ``expires_1`` (``auto_remove="native"``): ``{expires: 1}``,
  ``expireAfterSeconds: 0``, with the options in connect-mongo's order (some
  servers compare the order), so either app may create it first.
* ``user_1_expires_1``: the owner index.  ``sessions_of`` and
  ``revoke_user`` look up one owner's live sessions (``user`` equal,
  ``expires`` later than now): one indexed query each, whatever the number
  of other sessions.

Both are created by the first write of each process, in one
``createIndexes``.  After that a write of a new session checks them again at
most once every :data:`RECHECK_SECONDS`, so a collection dropped while the
app runs gets its indexes back without a restart and without a round trip
per request.  Requests racing to create them all send the (idempotent)
command: no lock is held across it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pymongo import IndexModel
from pymongo.errors import OperationFailure

#: How often (seconds) writes of new sessions check that the indexes still exist.
RECHECK_SECONDS = 60.0
#: connect-mongo's TTL index (options in its order).
TTL_INDEX = IndexModel([("expires", 1)], background=True, expireAfterSeconds=0)
#: The owner index (equality on the owner, then the range on the expiry).
OWNER_INDEX = IndexModel([("user", 1), ("expires", 1)])
_CONFLICT_CODES = (85, 86)  # an index with this key or name exists with other options


class Indexes:
    """The indexes one store keeps, and when it last made sure of them in this process."""

    def __init__(self, store_name: str, models: list[IndexModel]) -> None:
        self.store_name = store_name
        self.models = models
        self._next_check = 0.0  # (0: not checked yet in this process)

    def before_write(self, collection: Any, inserting: bool) -> None:
        """Create the indexes if this write is due to check them."""
        if self.due(inserting):
            self.ensure(collection)

    def due(self, inserting: bool) -> bool:
        """The first write in a process is; then a write of a new session, once a minute."""
        next_check = self._next_check
        return next_check == 0.0 or (inserting and time.monotonic() >= next_check)

    def ensure(self, collection: Any) -> None:
        """Create every index (idempotent); an equivalent existing one is fine."""
        self._next_check = time.monotonic() + RECHECK_SECONDS
        try:
            try:
                collection.create_indexes(self.models)
            except OperationFailure as exc:
                if not _is_conflict(exc):
                    raise
                for model in self.models:  # one by one, to find the one that conflicts
                    self._create_one(collection, model)
        except BaseException:
            self._next_check = 0.0  # the next write tries again
            raise

    def _create_one(self, collection: Any, model: IndexModel) -> None:
        try:
            collection.create_indexes([model])
        except OperationFailure as exc:
            if not _is_conflict(exc):
                raise
            wanted = model.document
            for info in collection.index_information().values():
                if _keys(info) == list(wanted["key"].items()) and info.get(
                    "expireAfterSeconds"
                ) == wanted.get("expireAfterSeconds"):
                    return  # the same index under another name or option order
            raise self._conflict(collection, wanted, exc) from exc

    def _conflict(
        self, collection: Any, wanted: Mapping[str, Any], exc: OperationFailure
    ) -> RuntimeError:
        keys = list(wanted["key"].items())
        found = [
            f"{name} on {dict(_keys(info))} with "
            f"{ {k: v for k, v in info.items() if k not in ('key', 'v', 'ns')} }"
            for name, info in collection.index_information().items()
            if name == wanted["name"] or _keys(info) == keys
        ]
        if "expireAfterSeconds" in wanted:
            what = (
                f"TTL index {wanted['name']} ({{expires: 1}}, expireAfterSeconds=0, "
                "connect-mongo's)"
            )
            remedy = "Drop that index, or pass auto_remove='interval' or 'disabled'"
        else:
            what = f"owner index {wanted['name']} ({{user: 1, expires: 1}})"
            remedy = "Drop that index so the store can create its own"
        reason = f"{exc.code} {(exc.details or {}).get('codeName', '')}".strip()
        return RuntimeError(
            f"{self.store_name} cannot create its {what}: the collection has "
            f"{'; '.join(found) or 'a conflicting index'}. {remedy} (server error {reason})"
        )


def _keys(info: Mapping[str, Any]) -> list[tuple[str, int]]:
    return [(field, int(direction)) for field, direction in info.get("key", [])]


def _is_conflict(exc: OperationFailure) -> bool:
    """An index with the same key or name exists with other options (mongomock: no code)."""
    return exc.code in _CONFLICT_CODES or (exc.code is None and "already exists" in str(exc))
