"""``@silent``: a view whose use of the session is not activity (api.md section 9).

Background polling (a notification badge every 60 s) should not keep an
idle-timeout session alive forever.  In a silent request the session is
read and its timeouts enforced, but it is not touched: no new
``last_seen_at``, no store refresh, no rolling or refresh ``Set-Cookie``.  A
silent request that changes the data is still saved.

Set ``session.silent = True`` yourself (in a ``before_request`` hook that
recognises a polling header, say) for the same effect.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import session

from .session import ServerSession

F = TypeVar("F", bound=Callable[..., Any])


def _mark() -> None:
    current = session._get_current_object()  # type: ignore[attr-defined]
    if isinstance(current, ServerSession):
        current.silent = True


def silent(view: F) -> F:
    """Decorate a view (sync or ``async def``) so its use of the session is not activity."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def silent_async_view(*args: Any, **kwargs: Any) -> Any:
            _mark()
            return await view(*args, **kwargs)

        return cast(F, silent_async_view)

    @functools.wraps(view)
    def silent_view(*args: Any, **kwargs: Any) -> Any:
        _mark()
        return view(*args, **kwargs)

    return cast(F, silent_view)
