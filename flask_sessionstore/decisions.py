"""express-session's decision rules, as pure functions of one request's outcome.

At the end of a request the session is summed up in a :class:`RequestOutcome`
(no I/O, no Flask); :func:`should_save`, :func:`should_touch` and
:func:`should_set_cookie` decide from it and the options, as express's
``shouldSave``, ``shouldTouch`` and ``shouldSetCookie`` do.  The interface
then does the I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .options import SessionOptions


class RequestOutcome(NamedTuple):
    """The facts express's decision rules look at, for one finished request."""

    #: The ID the browser sent (``cookieId``), None when it sent none valid.
    cookie_sid: str | None
    #: The session's ID now (``req.sessionID``).
    sid: str
    #: The data differs from the load, or the ID changed (``isModified``).
    modified: bool
    #: The data equals a state already written in this request or loaded with
    #: ``resave=False`` (``isSaved``); None when there is no such state.
    saved: bool | None
    #: An explicit ``save()`` in this request already wrote exactly this state.
    written: bool
    #: The cookie has an expiry (not a browser-session cookie).
    persistent: bool
    #: Flask's ``session.permanent``.
    permanent: bool
    #: ``session.silent``: the use of the session is not activity.
    silent: bool
    #: The stored cookie attributes differ from the current options.
    attributes_changed: bool
    #: The data in its JSON-ready form, as it would be stored.
    data: dict[str, Any]


def should_save(outcome: RequestOutcome, options: SessionOptions) -> bool:
    """Express's ``shouldSave``: write the session to the store?"""
    new = outcome.cookie_sid != outcome.sid
    if not options.save_uninitialized and outcome.saved is None and new:
        return outcome.modified
    return not outcome.saved


def should_touch(outcome: RequestOutcome, options: SessionOptions) -> bool:
    """Express's ``shouldTouch``: refresh the stored expiry without a full write?

    Unlike express, not after an explicit ``save()`` of the same state, and
    not for a silent request (section 9) unless the stored cookie attributes
    are out of date.
    """
    if outcome.silent and not outcome.attributes_changed:
        return False
    return (
        outcome.cookie_sid == outcome.sid
        and not outcome.written
        and not should_save(outcome, options)
    )


def should_set_cookie(
    outcome: RequestOutcome, options: SessionOptions, refresh_each_request: bool
) -> bool:
    """Express's ``shouldSetCookie``, plus Flask's ``SESSION_REFRESH_EACH_REQUEST``.

    Also when the stored cookie attributes differ from the current options
    (so a tightened ``same_site`` reaches the browser); never a rolling or
    refresh cookie for a silent request.
    """
    if outcome.cookie_sid != outcome.sid:
        return options.save_uninitialized or outcome.modified
    if outcome.attributes_changed or (outcome.persistent and outcome.modified):
        return True
    if outcome.silent:
        return False
    return options.rolling or (refresh_each_request and outcome.permanent)
