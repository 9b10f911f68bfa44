"""Session data as JSON, with Flask's tags for the types plain JSON cannot hold.

Plain JSON data (dicts with string keys, lists, strings, numbers, booleans,
None) is stored exactly as it is, so an Express app reads it unchanged.
Tuples, bytes, ``Markup``, ``UUID`` and ``datetime`` are tagged the way
Flask's own cookie session tags them (``{" t": [...]}``, ``{" m": "..."}``,
using :class:`flask.json.tag.TaggedJSONSerializer`), so
``flask.flash(Markup(...))`` works.  Nothing is ever pickled.

Only values this package tagged itself are turned back into those types: each
tagged value carries a short HMAC (``" s"``) keyed from the app's signing
secret.  Tag-shaped data written by anyone else (a Node app sharing the
store, a JSON body it saved: ``{" m": "<script>..."}``) has no valid mark, so
it stays a plain dict, is never rendered as ``Markup``, and is written back
exactly as it was read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from flask.json.tag import TaggedJSONSerializer

_tagger = TaggedJSONSerializer()
_TAGS = {key: tag for key, tag in _tagger.tags.items() if key != " di"}
_PLAIN_SCALARS = (str, int, float, bool, type(None))
#: The member of a tagged value that holds its mark.
MARK = " s"
_KEY_LABEL = b"flask-sessionstore: tagged session values"


class SerializationError(TypeError):
    """A session value cannot be stored as JSON; the message names its key.

    Raised when the session is saved (or :attr:`ServerSession.modified` is
    read), before anything is written to the store.
    """


class _Unstorable(Exception):
    """Raised inside :meth:`Tagger.dump`, which then finds and names the value."""


def _check(value: Any, path: str) -> None:
    """Raise :class:`SerializationError` naming the first value under ``path`` JSON cannot hold."""
    kind = type(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise SerializationError(
                    f"session key {path} holds a dict with the non-string key {key!r}; "
                    "JSON objects only have string keys"
                )
            _check(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
    elif _tagger.tag(value) is value and not isinstance(value, _PLAIN_SCALARS):
        raise SerializationError(
            f"session key {path} holds a {kind.__module__}.{kind.__qualname__} "
            f"value ({value!r:.60}) that cannot be stored as JSON; store str, int, "
            "float, bool, None, list, tuple, dict, bytes, datetime, UUID or Markup"
        )


def _canonical(tagged: Mapping[str, Any]) -> bytes:
    return json.dumps(
        tagged, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


class Tagger:
    """Tags and untags one app's session data; marks are keyed from its ``secrets``.

    Element 0 of ``secrets`` marks, every element verifies (secret rotation).
    """

    __slots__ = ("_keys",)

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self._keys = [hmac.digest(secret, _KEY_LABEL, hashlib.sha256) for secret in secrets]

    def __repr__(self) -> str:
        return "<Tagger>"

    def _mark(self, tagged: Mapping[str, Any], key: bytes) -> str:
        digest = hmac.digest(key, _canonical(tagged), hashlib.sha256)[:12]
        return base64.urlsafe_b64encode(digest).decode("ascii")

    def _marked(self, tagged: dict[str, Any]) -> dict[str, Any]:
        tagged[MARK] = self._mark(tagged, self._keys[0])
        return tagged

    def dump(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON-ready form of session data (a new dict; input untouched).

        Raises :class:`SerializationError` naming the key of the first value
        that JSON cannot hold, before anything is written anywhere.
        """
        tag = self._tag
        try:
            return {key: tag(value) for key, value in data.items()}
        except _Unstorable:
            pass
        for key, value in data.items():  # rare: walk again, naming where it is
            _check(value, repr(key))
        raise AssertionError("unreachable: _check raises where _tag did")

    def _tag(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None or kind is float:
            return value
        tag = self._tag
        if kind is list:
            return [tag(item) for item in value]
        if kind is dict:
            for key in value:
                if type(key) is not str:
                    raise _Unstorable
            return {key: tag(item) for key, item in value.items()}
        if isinstance(value, tuple):
            return self._marked({" t": [tag(item) for item in value]})
        if isinstance(value, dict):
            return tag(dict(value))
        if isinstance(value, list):
            return tag(list(value))
        tagged = _tagger.tag(value)
        if tagged is not value:
            return self._marked(dict(tagged))
        if not isinstance(value, _PLAIN_SCALARS):  # subclasses such as IntEnum pass
            raise _Unstorable
        return value

    def load(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """Stored JSON-ready data back as Python values; only our own marks are untagged."""
        return {key: self._untag(value) for key, value in stored.items()}

    def _untag(self, value: Any) -> Any:
        kind = type(value)
        if kind is list:
            return [self._untag(v) for v in value]
        if kind is not dict:
            return value
        if len(value) == 2 and MARK in value:
            (tag,) = (key for key in value if key != MARK)
            if tag in _TAGS and self._verified(value, tag):
                payload = value[tag]
                if tag == " t" and type(payload) is list:
                    return tuple(self._untag(item) for item in payload)
                try:
                    return _TAGS[tag].to_python(payload)
                except (TypeError, ValueError):
                    pass  # a marked value we cannot read: keep it as data
        return {k: self._untag(v) for k, v in value.items()}

    def _verified(self, value: Mapping[str, Any], tag: str) -> bool:
        mark = value[MARK]
        if not isinstance(mark, str):
            return False
        body = {tag: value[tag]}
        return any(hmac.compare_digest(self._mark(body, key), mark) for key in self._keys)
