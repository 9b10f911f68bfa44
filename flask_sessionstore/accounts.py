"""Account control: a user's sessions, revoking one, all, or all but this one.

The store keeps an owner index beside the sessions (MongoStore: an indexed
``user`` field; RedisStore: a set per owner; MemoryStore: a dict), so these
are one indexed query each, whatever the number of other sessions.  A
revoked session is removed from the store; a request that loaded it before
cannot write it back (its compare-and-set finds nothing), and its next
request starts anonymous.
"""

from __future__ import annotations

from dataclasses import replace

from flask import has_request_context
from flask import session as flask_session

from .records import SessionRecord
from .session import ServerSession
from .stores.base import Store


def current_sid() -> str | None:
    """The ID of the session of the request being served, if there is one."""
    if not has_request_context():
        return None
    current = flask_session._get_current_object()  # type: ignore[attr-defined]
    return current.id if isinstance(current, ServerSession) else None


def check_user(user: object) -> str:
    """Owners are matched exactly as str (an e-mail, a UUID...)."""
    if not isinstance(user, str):
        raise TypeError(
            f"user must be the owner as a str (what str(session[user_key]) gives), not {user!r}"
        )
    return user


def sessions_of(store: Store, user: str) -> list[SessionRecord]:
    """``user``'s live sessions, most recently seen first, ``current`` marked."""
    records = store.sessions_of(check_user(user))
    current = current_sid()
    if current is None:
        return records
    return [replace(record, current=record.id == current) for record in records]


def revoke_user(store: Store, user: str, *, keep_current: bool = False) -> int:
    """Revoke every session of ``user`` (but the current one with ``keep_current``)."""
    keep = None
    if keep_current:
        keep = current_sid()
        if keep is None:
            raise RuntimeError(
                "revoke_user(..., keep_current=True) needs a request context with a "
                "session: it keeps the session of the request being served"
            )
    return store.revoke_user(check_user(user), keep=keep)
