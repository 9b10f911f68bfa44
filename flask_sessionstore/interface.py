"""The session interface: express-session's per-request algorithm for Flask.

``open_session`` runs when the request context is pushed: it checks the
cookie path, reads and verifies the signed ID from the ``Cookie`` header and
hands back a lazily loaded :class:`~flask_sessionstore.ServerSession`.
``save_session`` runs after the view and every ``after_request`` function,
before a byte of the response is sent: it decides, with express's rules
(:func:`should_save`, :func:`should_touch`, :func:`should_set_cookie`),
whether to write or touch the store and whether to send ``Set-Cookie``.
Because the store is written here, a redirect can never outrun the save.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin

from .cookie import Cookie
from .options import SessionOptions, lifetime_seconds, resolve_cookie
from .session import OutsideCookiePathSession, RequestOutcome, ServerSession
from .signing import cookie_value, read_cookie, session_id_from_cookie

#: How many verified ``Cookie`` headers an interface remembers (then starts over).
VERIFIED_CACHE_SIZE = 4096


def should_save(outcome: RequestOutcome, options: SessionOptions) -> bool:
    """Express's ``shouldSave``: write the session to the store?"""
    new = outcome.cookie_sid != outcome.sid
    if not options.save_uninitialized and outcome.saved is None and new:
        return outcome.modified
    return not outcome.saved


def should_touch(outcome: RequestOutcome, options: SessionOptions) -> bool:
    """Express's ``shouldTouch``: refresh the stored expiry without a full write?

    Unlike express, not after an explicit ``save()`` of the same state.
    """
    return (
        outcome.cookie_sid == outcome.sid
        and not outcome.written
        and not should_save(outcome, options)
    )


def should_set_cookie(outcome: RequestOutcome, options: SessionOptions) -> bool:
    """Express's ``shouldSetCookie``: send ``Set-Cookie`` on this response?"""
    if outcome.cookie_sid != outcome.sid:
        return options.save_uninitialized or outcome.modified
    return options.rolling or (outcome.persistent and outcome.modified)


def is_secure(req: Request, proxy: bool | None) -> bool:
    """Express's secure-request test.

    A request that reached the WSGI server over TLS is secure.  Otherwise,
    ``proxy=None`` trusts ``request.is_secure`` (so werkzeug's ``ProxyFix``
    decides), ``proxy=True`` trusts the first ``X-Forwarded-Proto`` value and
    ``proxy=False`` trusts nothing else.
    """
    environ = req.environ
    original = environ.get("werkzeug.proxy_fix.orig")
    scheme = original.get("wsgi.url_scheme") if original else environ.get("wsgi.url_scheme")
    if scheme == "https":
        return True
    if proxy is None:
        return bool(req.is_secure)
    if proxy is False:
        return False
    forwarded: str = environ.get("HTTP_X_FORWARDED_PROTO", "")
    return forwarded.split(",", 1)[0].strip().lower() == "https"


def vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the ``Vary`` header once (what ``response.vary.add`` does, cheaper)."""
    headers = response.headers
    current = headers.get("Vary")
    if not current:
        headers["Vary"] = "Cookie"
    elif not any(part.strip().lower() in ("cookie", "*") for part in current.split(",")):
        headers["Vary"] = current + ", Cookie"


def raw_path(req: Request) -> str:
    """The undecoded request path, mount prefix included, without the query."""
    environ = req.environ
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if uri:
        if not uri.startswith("/"):
            uri = urlsplit(uri).path
        path: str = uri.partition("?")[0]
    else:
        joined = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        path = quote(joined.encode("latin-1"), safe="/:@!$&'()*+,;=-._~%")
    return path or "/"


class ServerSessionInterface(SessionInterface):
    """Flask ``SessionInterface`` that keeps sessions in a :class:`~flask_sessionstore.Store`.

    Installed by :meth:`flask_sessionstore.SessionStore.init_app`; one per app.
    """

    null_session_class = OutsideCookiePathSession

    def __init__(self, options: SessionOptions) -> None:
        self.options = options
        #: ``Cookie`` header -> the session ID it verified to.  Parsing, URL
        #: decoding and the HMAC are skipped for a header seen before; the
        #: mapping is a pure function of the header (the secrets are fixed),
        #: so caching it cannot accept anything that would not verify.
        self.verified_ids: dict[str, str] = {}

    # -- open ---------------------------------------------------------------

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        """Read the signed ID from the cookie and return a lazily loaded session.

        Returns None (Flask then uses a null session) when the request path
        is outside the cookie ``path``: no store call, no cookie.
        """
        options = self.options
        cookie_options = resolve_cookie(options.cookie, request)
        cookie_path = cookie_options.get("path", "/")
        if cookie_path != "/" and not raw_path(request).startswith(cookie_path):
            return None
        header = request.environ.get("HTTP_COOKIE")
        cookie_sid = self.verified_ids.get(header) if header else None
        if cookie_sid is None and header:
            value = read_cookie(header, options.name)
            cookie_sid = session_id_from_cookie(value, options.secrets) if value else None
            if cookie_sid is not None:
                if len(self.verified_ids) >= VERIFIED_CACHE_SIZE:
                    self.verified_ids.clear()
                self.verified_ids[header] = cookie_sid
        return ServerSession(
            options.store,
            cookie_sid,
            lambda: self.new_identity(request, cookie_options),
            lambda: lifetime_seconds(app),
        )

    def new_identity(
        self, request: Request, cookie_options: Mapping[str, Any]
    ) -> tuple[str, Cookie]:
        """A new session ID from ``genid`` and a cookie from the options, ``'auto'`` resolved."""
        sid = self.options.genid(request)
        if not isinstance(sid, str) or not sid:
            raise TypeError(f"genid must return a non-empty str, it returned {sid!r}")
        secure = cookie_options.get("secure")
        same_site = cookie_options.get("same_site")
        if secure == "auto" or same_site == "auto":
            secure_request = is_secure(request, self.options.proxy)
            cookie_options = dict(cookie_options)
            if secure == "auto":
                cookie_options["secure"] = secure_request
            if same_site == "auto":
                cookie_options["same_site"] = "none" if secure_request else "lax"
        return sid, Cookie.from_options(cookie_options)

    # -- save ---------------------------------------------------------------

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save, touch or destroy the session and decide on ``Set-Cookie``."""
        if not isinstance(session, ServerSession):
            return
        if not session.loaded:
            if session.accessed:
                vary_on_cookie(response)
            return  # never used: no store call, no cookie
        # the session was used, so the response depends on the Cookie header
        vary_on_cookie(response)
        options = self.options

        if session.destroyed or (options.unset == "destroy" and session.emptied):
            if not session.destroyed and session.was_stored:
                session.destroy()  # (a session never stored has nothing to remove)
            if session.cookie_id is not None:
                self._expire_cookie(session.cookie, response)
            return

        outcome = session.outcome(options.resave)
        sid, cookie = outcome.sid, session.cookie
        if should_save(outcome, options):
            session.write(outcome.data)
        elif should_touch(outcome, options):
            session.refresh(outcome.data)

        if should_set_cookie(outcome, options):
            if cookie.secure and not is_secure(request, options.proxy):
                app.logger.debug("session cookie not sent: Secure cookie on an insecure request")
            else:
                value = cookie_value(sid, options.secrets[0])
                response.headers.add("Set-Cookie", cookie.serialize(options.name, value))

    def _expire_cookie(self, cookie: Cookie, response: Response) -> None:
        if cookie.secure and not is_secure(request, self.options.proxy):
            return
        response.headers.add("Set-Cookie", cookie.serialize_expired(self.options.name))
