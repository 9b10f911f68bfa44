"""``flash()``: connect-flash's ``req.flash`` on top of Flask's own flash storage.

Messages live where Flask keeps them, ``session["_flashes"]`` as a list of
``(category, message)`` pairs, so :func:`flask.get_flashed_messages` sees
messages added here and this ``flash`` sees messages added with
:func:`flask.flash`.  Note the argument order: connect-flash (and this
function) take the category first, ``flask.flash`` takes the message first.

Differences from connect-flash 0.1.1, on purpose: reading never modifies the
session when there is nothing to read (so anonymous visitors get no session
and no cookie, connect-flash#33); a falsy message such as ``""`` is appended
rather than turning the call into a read; an empty list appends nothing and
returns the current count instead of raising.
"""

from __future__ import annotations

import json
import re
from typing import Any, overload

from flask import current_app, message_flashed, session

FLASHES_KEY = "_flashes"
_MISSING: Any = object()
_PLACEHOLDER = re.compile(r"%[sdifjoOc%]")


@overload
def flash() -> dict[str, list[Any]]: ...
@overload
def flash(category: str) -> list[Any]: ...
@overload
def flash(category: str, message: Any, *args: Any) -> int: ...


def flash(category: str | None = None, message: Any = _MISSING, *args: Any) -> Any:
    """Add or take flash messages, the connect-flash way.

    * ``flash(category, message)`` appends a message (each element of a list)
      and returns how many messages ``category`` now holds;
    * ``flash(category, fmt, *args)`` appends ``fmt`` formatted like Node's
      ``util.format`` (``%s %d %i %f %j %%``);
    * ``flash(category)`` removes and returns that category's messages;
    * ``flash()`` removes and returns every message, as ``{category: [...]}``.

    Like :func:`flask.flash`, each added message sends the
    :data:`flask.message_flashed` signal.
    """
    if category is None:
        return _take_all()
    if message is _MISSING:
        return _take(category)
    if args:
        messages = [format_message(message, *args)]
    elif isinstance(message, list):
        messages = list(message)
    else:
        messages = [message]
    flashes = list(session.get(FLASHES_KEY, ()))
    if messages:
        flashes.extend((category, item) for item in messages)
        session[FLASHES_KEY] = flashes
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        for item in messages:
            message_flashed.send(
                app, _async_wrapper=app.ensure_sync, message=item, category=category
            )
    return sum(1 for kind, _ in flashes if kind == category)


def _take(category: str) -> list[Any]:
    flashes = session.get(FLASHES_KEY)
    if not flashes:
        return []
    taken = [message for kind, message in flashes if kind == category]
    if taken:
        rest = [(kind, message) for kind, message in flashes if kind != category]
        if rest:
            session[FLASHES_KEY] = rest
        else:
            del session[FLASHES_KEY]
    return taken


def _take_all() -> dict[str, list[Any]]:
    if FLASHES_KEY not in session:
        return {}
    grouped: dict[str, list[Any]] = {}
    for kind, message in session.pop(FLASHES_KEY):
        grouped.setdefault(kind, []).append(message)
    return grouped


def _js_string(value: Any) -> str:
    """``String(value)`` for JSON-like values."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def _number(value: Any, integer: bool) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "NaN"
    if integer or number.is_integer():
        return str(int(number)) if number == number and abs(number) != float("inf") else "NaN"
    return repr(number)


def format_message(fmt: Any, *args: Any) -> str:
    """Format like Node's ``util.format``.

    ``%s`` string, ``%d`` number, ``%i`` integer, ``%f`` float, ``%j`` JSON,
    ``%o``/``%O`` inspect (JSON here), ``%c`` consumes an argument and prints
    nothing, ``%%`` a percent sign.  Missing arguments leave the placeholder;
    extra ones are appended, separated by spaces.
    """
    remaining = list(args)
    if not isinstance(fmt, str):
        return " ".join(_js_string(part) for part in [fmt, *remaining])

    def substitute(match: re.Match[str]) -> str:
        code = match.group()[1]
        if code == "%":
            return "%"
        if not remaining:
            return match.group()
        value = remaining.pop(0)
        if code == "s":
            return _js_string(value)
        if code in "di":
            return _number(value, integer=code == "i")
        if code == "f":
            return _number(value, integer=False) if not isinstance(value, bool) else "NaN"
        if code in "joO":
            try:
                return json.dumps(value, separators=(",", ":"))
            except (TypeError, ValueError):
                return "[Circular]" if code == "j" else repr(value)
        return ""  # %c

    text = _PLACEHOLDER.sub(substitute, fmt)
    return " ".join([text, *(_js_string(value) for value in remaining)])
