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


class Expected(NamedTuple):
    """Why a test fails, and the exception it fails with (any other is a new failure)."""

    reason: str
    raises: type[BaseException]


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
    # SESSION_COOKIE_SECURE=True over http://: no Set-Cookie at all.  This
    # masks two more checks of the same test, see CONFORMANCE.md ("masked").
    "tests/test_basic.py::test_session_using_session_settings": Expected(
        (
            "Secure rule, api.md section 3: 'A Secure cookie is still never sent on an "
            "insecure request (express's rule)'; section 1: 'With a truthy secure, no "
            "Set-Cookie is sent on a request that is not secure'"
        ),
        KeyError,
    ),
}

#: Bugs of ours that Flask's tests find.  Move nothing here that the contract
#: allows; fix the package and delete the entry instead.
KNOWN_BUGS: dict[str, Expected] = {
    "tests/test_basic.py::test_session_path": Expected(
        (
            "BUG: interface.raw_path() prefers RAW_URI, which excludes SCRIPT_NAME (here '/', "
            "mounted at '/foo'), so open_session() finds the path outside cookie path '/foo' and "
            "gives no session; api.md section 1: the path 'as the browser sent it (the mount "
            "prefix, SCRIPT_NAME, included)'"
        ),
        RuntimeError,
    ),
    "tests/test_basic.py::test_session_using_application_root": Expected(
        (
            "BUG: interface.raw_path() prefers RAW_URI ('/') over SCRIPT_NAME ('/bar', set by "
            "a prefix middleware), so the request is judged outside cookie path '/bar' and gets "
            "no session; api.md section 1: the mount prefix, SCRIPT_NAME, is part of the path"
        ),
        RuntimeError,
    ),
    "tests/test_basic.py::test_session_using_samesite_attribute": Expected(
        (
            "BUG: a changed SESSION_COOKIE_SAMESITE never reaches an existing session: "
            "save_session() serializes the stored Cookie's attributes and should_set_cookie() "
            "has no 'attributes differ' case; api.md section 3: 'A session whose stored "
            "attributes differ from the current options gets a Set-Cookie on its next request "
            "that uses it'"
        ),
        KeyError,
    ),
    "tests/test_basic.py::test_session_cookie_setting": Expected(
        (
            "BUG: SESSION_REFRESH_EACH_REQUEST is never read (options.build_options) and "
            "interface.should_set_cookie() re-sends a permanent cookie only when modified; "
            "api.md section 1: with SESSION_REFRESH_EACH_REQUEST 'a permanent session's cookie "
            "is re-sent, with a renewed expiry, on every request that uses the session'"
        ),
        AssertionError,
    ),
}
