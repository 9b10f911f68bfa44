"""Session data as JSON, with Flask's tags for the types plain JSON cannot hold.

Plain JSON data (dicts with string keys, lists, strings, numbers, booleans,
None) is stored exactly as it is, so an Express app reads it unchanged.
Tuples, bytes, ``Markup``, ``UUID`` and ``datetime`` are tagged the way
Flask's own cookie session tags them (``{" t": [...]}`` and so on), using
:class:`flask.json.tag.TaggedJSONSerializer`, so ``flask.flash(Markup(...))``
works.  Nothing is ever pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.json.tag import TaggedJSONSerializer

_tagger = TaggedJSONSerializer()
_TAGS = _tagger.tags
_PLAIN_SCALARS = (str, int, float, bool, type(None))


class SerializationError(TypeError):
    """A session value cannot be stored as JSON; the message names its key."""


def _tag(value: Any, path: str) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or kind is float:
        return value
    if isinstance(value, dict):
        for key in value:
            if type(key) is not str:
                raise SerializationError(
                    f"session key {path} holds a dict with the non-string key {key!r}; "
                    "JSON objects only have string keys"
                )
        tagged = {k: _tag(v, f"{path}[{k!r}]") for k, v in value.items()}
        if len(tagged) == 1:
            (key,) = tagged
            if key in _TAGS:  # a user dict that looks like a tag gets escaped
                return {" di": {key + "__": tagged[key]}}
        return tagged
    if isinstance(value, list):
        return [_tag(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {" t": [_tag(v, f"{path}[{i}]") for i, v in enumerate(value)]}
    tagged = _tagger.tag(value)
    if tagged is not value:
        return tagged
    if not isinstance(value, _PLAIN_SCALARS):  # subclasses such as IntEnum pass
        raise SerializationError(
            f"session key {path} holds a {kind.__module__}.{kind.__qualname__} "
            f"value ({value!r:.60}) that cannot be stored as JSON; store str, int, "
            "float, bool, None, list, tuple, dict, bytes, datetime, UUID or Markup"
        )
    return value


def dump_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the JSON-ready form of session data (a new dict; input untouched).

    Raises :class:`SerializationError` naming the key of the first value
    that JSON cannot hold, before anything is written anywhere.
    """
    return {key: _tag(value, repr(key)) for key, value in data.items()}


def _untag(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        value = {k: _untag(v) for k, v in value.items()}
        if len(value) == 1:
            (key,) = value
            if key in _TAGS:
                return _TAGS[key].to_python(value[key])
        return value
    if kind is list:
        return [_untag(v) for v in value]
    return value


def load_data(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Turn stored JSON-ready data back into Python values (tags undone)."""
    return {key: _untag(value) for key, value in stored.items()}
