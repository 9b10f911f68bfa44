"""Which of Flask's own session tests fail against flask-sessionstore, and why.

Keys are pytest node IDs relative to the extracted Flask sdist.  The plugin
marks each listed test ``xfail(strict=True)`` with the value as its reason, so
an entry that starts passing fails the job (XPASS strict): delete it then.

Only two kinds of difference are part of the contract (api.md): lazy loading
(a request that never uses the session touches neither store nor cookie) and
the Secure rule (a Secure cookie is never sent on an insecure request).
Anything else that fails is a bug of ours, listed in ``KNOWN_BUGS`` until it
is fixed; the package's author has the details in ``tests/CONFORMANCE.md``.
"""

from __future__ import annotations

from typing import NamedTuple

from flask_sessionstore.interface import InsecureCookieWarning


class Expected(NamedTuple):
    """Why a test fails, and the exception it fails with (any other is a new failure)."""

    reason: str
    raises: type[BaseException] | tuple[type[BaseException], ...]


#: Flask's cookie session and our contract disagree: each value quotes api.md.
CONTRACT_DIFFERENCES: dict[str, Expected] = {
    # GET /ignored never uses the session, so it is not loaded and gets no
    # refreshed cookie and no Vary; Flask re-sends a permanent cookie on
    # every request and adds Vary: Cookie for it.
    "tests/test_basic.py::test_session_refresh_vary": Expected(
        (
            "lazy loading, api.md section 1: 'a permanent session's cookie is re-sent, with a "
            "renewed expiry, on every request that uses the session (Flask's rule; requests "
            "that never use the session stay store-free and cookie-free)'"
        ),
        KeyError,
    ),
    # SESSION_COOKIE_SECURE=True over http://: no Set-Cookie at all, and the
    # first time in a process a warning naming the fix, which Flask's pytest
    # configuration turns into an error.  This masks two more checks of the
    # same test, see CONFORMANCE.md ("masked").
    "tests/test_basic.py::test_session_using_session_settings": Expected(
        (
            "Secure rule, api.md section 3: 'A Secure cookie is still never sent on an "
            "insecure request (express's rule); the first time that happens in a process a "
            "warning names the fix'; section 1: 'With a truthy secure, no Set-Cookie is sent "
            "on a request that is not secure'"
        ),
        (KeyError, InsecureCookieWarning),
    ),
}

#: Bugs of ours that Flask's tests find.  Move nothing here that the contract
#: allows; fix the package and delete the entry instead.  (The four found when
#: this suite was added, prefix mounts, SameSite changes and
#: SESSION_REFRESH_EACH_REQUEST, are fixed.)
KNOWN_BUGS: dict[str, Expected] = {}
