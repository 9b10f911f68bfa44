"""The session interface: express-session's per-request algorithm for Flask.

``open_session`` runs when the request context is pushed: it checks the
cookie path, reads and verifies the signed ID from the ``Cookie`` header and
hands back a lazily loaded :class:`~flask_sessionstore.ServerSession`.
``save_session`` runs after the view and every ``after_request`` function,
before a byte of the response is sent: it decides, with express's rules
(:func:`should_save`, :func:`should_touch`, :func:`should_set_cookie`),
whether to write or touch the store and whether to send ``Set-Cookie``.
Because the store is written here, a redirect can never outrun the save, and
a failed save turns the response into a 503: a lost save is never reported
as success.
"""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.local import LocalProxy

from .cookie import Cookie
from .decisions import should_save, should_set_cookie, should_touch
from .errors import SessionUnavailable
from .options import SessionOptions, lifetime_seconds
from .policy import SessionPolicy, Visit
from .records import USER_AGENT_LIMIT
from .serialization import Tagger
from .session import OutsideCookiePathSession, ServerSession
from .signing import cookie_value, read_cookie, session_id_from_cookie

#: How many verified ``Cookie`` headers an interface remembers (then starts over).
VERIFIED_CACHE_SIZE = 4096
#: Longer headers are verified every time, never remembered (at most ~2 MB cached).
VERIFIED_HEADER_LIMIT = 512
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class InsecureCookieWarning(UserWarning):
    """A Secure session cookie was withheld because the request was not secure."""


_warned_insecure = False


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
    """The path as the browser sent it, undecoded, mount prefix included, no query.

    A proxy that strips a mount prefix (``ProxyFix(x_prefix=1)``, or the test
    client's ``base_url``) leaves it only in ``SCRIPT_NAME``, so it is put
    back in front of the path the server saw.
    """
    environ = req.environ
    script = quote(environ.get("SCRIPT_NAME", "").encode("latin-1"), safe=_PATH_SAFE)
    uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if uri:
        if not uri.startswith("/"):
            uri = urlsplit(uri).path
        path: str = uri.partition("?")[0]
        if script and not (path == script or path.startswith(script + "/")):
            path = script + path
    else:
        info = environ.get("PATH_INFO", "")
        path = script + quote(info.encode("latin-1"), safe=_PATH_SAFE)
    return path or "/"


class ServerSessionInterface(SessionInterface):
    """Flask ``SessionInterface`` that keeps sessions in a :class:`~flask_sessionstore.Store`.

    Installed by :meth:`flask_sessionstore.SessionStore.init_app`; one per app.
    """

    null_session_class = OutsideCookiePathSession

    def __init__(self, options: SessionOptions, app: Flask) -> None:
        self.options = options
        self.policy = SessionPolicy(
            store=options.store,
            tagger=Tagger(options.secrets),
            user_key=options.user_key,
            track_client=options.track_client,
            timeouts=options.timeouts,
            permanent_lifetime=lambda: lifetime_seconds(app),
        )
        #: ``Cookie`` header -> the session ID it verified to (see :meth:`cookie_sid`).
        self.verified_ids: dict[str, str] = {}
        self._attributes: tuple[Any, tuple[Any, ...]] | None = None

    def __repr__(self) -> str:
        return f"<ServerSessionInterface {self.options!r}>"

    # -- open ---------------------------------------------------------------

    def open_session(self, app: Flask, request: Request) -> ServerSession | None:
        """Read the signed ID from the cookie and return a lazily loaded session.

        Returns None (Flask then uses a null session) when the request path
        is outside the cookie ``path``: no store call, no cookie.
        """
        options = self.options
        cookie_options = options.cookie.for_request(app, request)
        cookie_path = cookie_options.get("path", "/")
        if cookie_path != "/" and not raw_path(request).startswith(cookie_path):
            return None  # express's prefix test, on the path as the browser sent it
        if isinstance(request, LocalProxy):  # (Flask passes the request itself)
            request = request._get_current_object()  # the session may outlive the context
        return ServerSession(self.policy, lambda: self.visit(request, cookie_options))

    def visit(self, request: Request, cookie_options: Any) -> Visit:
        """What the session needs from its request, worked out when it is first used."""
        environ = request.environ
        agent = environ.get("HTTP_USER_AGENT")
        return Visit(
            self.cookie_sid(environ.get("HTTP_COOKIE")),
            lambda: self.options.genid(request),
            lambda: self.make_cookie(request, cookie_options),
            lambda: self.attributes(request, cookie_options),
            environ.get("REMOTE_ADDR"),
            agent[:USER_AGENT_LIMIT] if agent else None,
        )

    def cookie_sid(self, header: str | None) -> str | None:
        """The verified session ID in a ``Cookie`` header, or None.

        Headers seen before (up to :data:`VERIFIED_HEADER_LIMIT` characters,
        so the cache stays small whatever clients send) skip parsing, URL
        decoding and the HMAC; the mapping is a pure function of the header
        (the secrets are fixed), so caching it cannot accept anything that
        would not verify.
        """
        if not header:
            return None
        cache = self.verified_ids
        sid = cache.get(header)
        if sid is not None:
            return sid
        value = read_cookie(header, self.options.name)
        sid = session_id_from_cookie(value, self.options.secrets) if value else None
        if sid is not None and len(header) <= VERIFIED_HEADER_LIMIT:
            if len(cache) >= VERIFIED_CACHE_SIZE:
                cache.clear()
            cache[header] = sid
        return sid

    def attributes(self, request: Request, cookie_options: Any) -> tuple[Any, ...]:
        """The cookie attributes the current options give (compared with a stored cookie)."""
        cached = self._attributes
        if cached is not None and cached[0] is cookie_options:
            return cached[1]
        values = self.make_cookie(request, cookie_options).attributes()
        if "auto" not in (cookie_options.get("secure"), cookie_options.get("same_site")):
            self._attributes = (cookie_options, values)  # (options are kept until they change)
        return values

    def make_cookie(self, request: Request, cookie_options: Any) -> Cookie:
        """A cookie from the current options, ``'auto'`` resolved for this request."""
        secure = cookie_options.get("secure")
        same_site = cookie_options.get("same_site")
        if secure == "auto" or same_site == "auto":
            secure_request = is_secure(request, self.options.proxy)
            cookie_options = dict(cookie_options)
            if secure == "auto":
                cookie_options["secure"] = secure_request
            if same_site == "auto":
                cookie_options["same_site"] = "none" if secure_request else "lax"
        return Cookie.from_options(cookie_options)

    # -- save ---------------------------------------------------------------

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save, touch or destroy the session and decide on ``Set-Cookie``."""
        if not isinstance(session, ServerSession):
            return
        if session.failure is not None:
            unavailable(app, response, session.failure)
            return
        options = self.options
        if not session.loaded:
            if session.accessed:
                vary_on_cookie(response)
            if not (options.save_uninitialized and session.cookie_id is None):
                return  # never used: no store call, no cookie
        # the session was used, so the response depends on the Cookie header
        vary_on_cookie(response)
        try:
            self._finish(app, session, response)
        except SessionUnavailable as exc:
            unavailable(app, response, exc)

    def _finish(self, app: Flask, session: ServerSession, response: Response) -> None:
        options = self.options
        if session.destroyed or (options.unset == "destroy" and session.emptied):
            if not session.destroyed and session.was_stored:
                session.destroy()  # (a session never stored has nothing to remove)
            if session.cookie_id is not None:
                cookie = session.cookie
                self._send(app, response, cookie.serialize_expired(options.name), cookie.secure)
            return

        owner_before = session.stored_owner
        outcome = session.outcome(options.resave)
        if should_save(outcome, options):
            session.write(outcome.data)
        elif should_touch(outcome, options):
            session.refresh(outcome.data, force=outcome.attributes_changed)
        if session.revoked:
            return  # a logout or revoke elsewhere won: nothing to tell the browser
        limit = options.max_sessions_per_user
        if limit is not None and session.stored_owner not in (None, owner_before):
            session.limit_sessions(limit)

        refresh = bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True))
        if should_set_cookie(outcome, options, refresh):
            value = cookie_value(outcome.sid, options.secrets[0])
            cookie = session.cookie
            self._send(app, response, cookie.serialize(options.name, value), cookie.secure)

    def _send(self, app: Flask, response: Response, header: str, secure: Any) -> None:
        """Add a ``Set-Cookie``, unless the cookie is Secure and the request is not."""
        if secure and not is_secure(request, self.options.proxy):
            global _warned_insecure
            if not _warned_insecure:
                _warned_insecure = True
                warnings.warn(
                    "flask-sessionstore did not send the Secure session cookie: this request "
                    "is plain http, so the browser would drop it and every request starts a "
                    "new session. Behind a TLS proxy, wrap the app in werkzeug's ProxyFix "
                    "(or pass proxy=True); in local development, do not set "
                    "SESSION_COOKIE_SECURE (or use secure='auto'). Shown once per process.",
                    InsecureCookieWarning,
                    stacklevel=2,
                )
                app.logger.warning("session cookie not sent: Secure cookie on a plain-http request")
            return
        response.headers.add("Set-Cookie", header)


def unavailable(app: Flask, response: Response, exc: SessionUnavailable) -> None:
    """Turn ``response`` into the app's 503 for ``exc`` (in place: Flask returns it)."""
    if response.status_code == 503 and "Retry-After" in response.headers:
        return  # already the error response for this failure
    try:
        error = app.make_response(app.handle_http_exception(exc))
    except Exception:  # an error handler that failed (or used the session): plain 503
        error = app.make_response(exc)
    if hasattr(response.response, "close"):
        response.response.close()
    response.status = error.status
    response.headers.clear()
    response.headers.extend(error.headers)
    response.headers["Retry-After"] = str(exc.retry_seconds)
    response.set_data(error.get_data())
    vary_on_cookie(response)
