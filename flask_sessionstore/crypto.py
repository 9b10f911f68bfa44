"""``SessionCipher``: encryption at rest in connect-mongo's WebCrypto adapter format.

connect-mongo 6's ``createWebCryptoAdapter({secret})`` encrypts the stored
``session`` field with AES-256-GCM under a key derived by
PBKDF2-HMAC-SHA256 (salt ``"connect-mongo:webcrypto-default-salt"``, 310000
iterations, 32 bytes) and stores ``base64(iv[12] || ciphertext || tag[16])``.
A Node app and a Flask app given the same secret therefore read each other's
encrypted sessions.

This module needs the ``cryptography`` package (the ``crypto`` extra); it is
imported only when a store is configured with ``crypto=``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
from collections.abc import Mapping
from typing import Any, Literal

#: connect-mongo's default PBKDF2 salt for the WebCrypto adapter.
DEFAULT_SALT = b"connect-mongo:webcrypto-default-salt"
#: connect-mongo's default PBKDF2 iteration count for the WebCrypto adapter.
DEFAULT_ITERATIONS = 310_000
#: The encodings connect-mongo's WebCrypto adapter can write.
ENCODINGS = ("base64", "base64url", "hex")
#: The keys a ``crypto`` option may have.
CRYPTO_OPTION_NAMES = ("secret", "salt", "iterations", "encoding")

_IV_SIZE = 12
_TAG_SIZE = 16

Encoding = Literal["base64", "base64url", "hex"]


class DecryptionError(ValueError):
    """A stored value could not be decoded or authenticated with this key."""


def _as_bytes(value: str | bytes, option: str, *, secret: bool = False) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    shown = f"a {type(value).__name__}" if secret else repr(value)  # never a secret's value
    raise TypeError(f"{option} must be str or bytes, not {shown}")


class SessionCipher:
    """AES-256-GCM with a PBKDF2 key (connect-mongo's ``createWebCryptoAdapter``).

    :param secret: the shared secret (connect-mongo's ``secret``); str or bytes.
    :param salt: PBKDF2 salt (connect-mongo's ``salt``).
    :param iterations: PBKDF2 iterations (connect-mongo's ``iterations``).
    :param encoding: how the stored bytes are written (connect-mongo's
        ``encoding``): ``"base64"``, ``"base64url"`` or ``"hex"``.

    The key is derived on first use and kept: PBKDF2 with 310000 iterations
    takes a noticeable fraction of a second, once per store.
    """

    def __init__(
        self,
        secret: str | bytes,
        *,
        salt: str | bytes = DEFAULT_SALT,
        iterations: int = DEFAULT_ITERATIONS,
        encoding: Encoding = "base64",
    ) -> None:
        self._secret = _as_bytes(secret, "crypto['secret']", secret=True)
        if not self._secret:
            raise ValueError("crypto['secret'] must be a non-empty str or bytes")
        self._salt = _as_bytes(salt, "crypto['salt']")
        if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 1:
            raise ValueError(f"crypto['iterations'] must be a positive int, not {iterations!r}")
        self.iterations = iterations
        if encoding not in ENCODINGS:
            raise ValueError(
                f"crypto['encoding'] must be one of {', '.join(map(repr, ENCODINGS))}, "
                f"not {encoding!r}"
            )
        self.encoding: Encoding = encoding
        # Imported here so that the package imports without the crypto extra.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aesgcm_class = AESGCM
        self._aead: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SessionCipher:
        """Build a cipher from a ``crypto={...}`` option, validating its keys."""
        if not isinstance(options, Mapping):
            raise TypeError(f"crypto must be a dict with a 'secret' key, not {options!r}")
        unknown = sorted(set(options) - set(CRYPTO_OPTION_NAMES))
        if unknown:
            raise ValueError(
                f"crypto has unknown key(s) {', '.join(map(repr, unknown))}; accepted "
                f"keys are {', '.join(CRYPTO_OPTION_NAMES)} (AES-256-GCM only)"
            )
        if "secret" not in options:
            raise ValueError("crypto needs a 'secret' (str or bytes)")
        return cls(
            options["secret"],
            salt=options.get("salt", DEFAULT_SALT),
            iterations=options.get("iterations", DEFAULT_ITERATIONS),
            encoding=options.get("encoding", "base64"),
        )

    def _cipher(self) -> Any:
        if self._aead is None:
            with self._lock:
                if self._aead is None:
                    key = hashlib.pbkdf2_hmac(
                        "sha256", self._secret, self._salt, self.iterations, 32
                    )
                    self._aead = self._aesgcm_class(key)
        return self._aead

    def encrypt(self, plaintext: str) -> str:
        """Encrypt text into the stored form ``encode(iv || ciphertext || tag)``."""
        iv = os.urandom(_IV_SIZE)
        blob: bytes = iv + self._cipher().encrypt(iv, plaintext.encode("utf-8"), None)
        if self.encoding == "hex":
            return blob.hex()
        if self.encoding == "base64url":
            return base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")
        return base64.b64encode(blob).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """Decrypt a stored value; :class:`DecryptionError` if it is not ours."""
        if not isinstance(stored, str):
            raise DecryptionError(f"expected an encrypted string, found {type(stored).__name__}")
        try:
            if self.encoding == "hex":
                blob = bytes.fromhex(stored)
            elif self.encoding == "base64url":
                blob = base64.urlsafe_b64decode(stored + "=" * (-len(stored) % 4))
            else:
                blob = base64.b64decode(stored + "=" * (-len(stored) % 4), validate=True)
        except (ValueError, binascii.Error) as exc:
            raise DecryptionError(f"not {self.encoding} text: {exc}") from None
        if len(blob) < _IV_SIZE + _TAG_SIZE:
            raise DecryptionError("too short to hold an IV and a tag")
        from cryptography.exceptions import InvalidTag

        try:
            plaintext: bytes = self._cipher().decrypt(blob[:_IV_SIZE], blob[_IV_SIZE:], None)
        except InvalidTag:
            raise DecryptionError("authentication failed (wrong secret or tampered)") from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DecryptionError(f"plaintext is not UTF-8: {exc}") from None
