"""pytest plugin: Flask's own session tests, run unchanged against flask-sessionstore.

Loaded with ``-p tests.flask_suite.plugin`` by ``python -m tests.flask_suite``
(``make flask-suite``), over the test files of the Flask sdist of the installed
Flask version.  It never edits those files; everything happens here.

When an app gets the extension
------------------------------
Flask's tests build apps in fixtures (``Flask(...)`` then
``app.config.update(SECRET_KEY=...)``) and inline, set ``app.secret_key`` and
``SESSION_COOKIE_*`` after construction, and change config between requests
(``SESSION_COOKIE_SAMESITE``, ``SESSION_REFRESH_EACH_REQUEST``, a rotated
``SECRET_KEY``).  ``SessionStore(app)`` at construction would fail (no secret
yet) and freeze the options of that moment, so the plugin wraps
``Flask.__init__`` instead and gives every new app whose session interface is
Flask's default a :class:`SuiteSessionInterface`.  That interface:

* owns one fresh :class:`~flask_sessionstore.MemoryStore` per app, created
  with the app and kept for the app's whole life;
* on every ``open_session`` compares ``app.config`` (and ``app.secret_key``,
  which a ``Flask`` subclass may define as a class attribute) with the
  snapshot its extension was built from.  On first use, and whenever they
  differ, it runs ``SessionStore(store=<that store>).init_app(app)`` again,
  exactly what a redeploy with the new config and the same store does, then
  puts itself back as ``app.session_interface`` and hands the request to the
  interface ``init_app`` installed.  Options are therefore those of the
  app's config at the request, as with Flask's own interface, and sessions
  survive the change, as with a shared store;
* when the app has no secret at all (``SECRET_KEY`` and ``SESSION_SECRET``
  unset) returns None, so Flask uses its null session: ``init_app`` refuses
  such an app (api.md section 1, "Missing: ``init_app`` raises a clear
  error"), so no app using the extension can be in that state;
* lets an error of ``init_app`` (a bad option value) propagate from
  ``open_session``: the request fails as it would at start-up.

An app whose class brings its own ``session_interface`` (two tests define a
``SessionInterface`` to test that mechanism) keeps it; the terminal summary
lists every selected test in which no request reached flask-sessionstore, and
why, so such a pass is never mistaken for one of ours.

Results
-------
Each selected test passes, or is in one of the two mappings of
:mod:`tests.flask_suite.expected` and gets ``xfail(strict=True)`` with the
exception it is known to fail with (``raises=``, so a new kind of failure of
a listed test is still a failure):
``CONTRACT_DIFFERENCES`` (the api.md sentence that makes our behaviour
differ from Flask's cookie session) or ``KNOWN_BUGS`` (a bug of ours still to
fix; the job turns red with XPASS(strict) when the fix lands, which is the
signal to delete the entry).

Guards, so that nothing is counted as a pass by accident: the run fails when
the selection is empty, when any test is skipped, when an entry of either
mapping names no collected test, or when no test at all reached the extension.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin

from flask_sessionstore import MemoryStore, SessionStore

from .expected import CONTRACT_DIFFERENCES, KNOWN_BUGS

#: What happened to the sessions of the running test: "served" (a request
#: reached flask-sessionstore), "no secret" (Flask's null session),
#: "own interface" (the app's class brought its own session interface).
_events: set[str] = set()
_events_lock = threading.Lock()


def _note(event: str) -> None:
    with _events_lock:
        _events.add(event)


def _config_snapshot(app: Flask) -> dict[str, Any]:
    """What the extension's options are built from: the config and ``app.secret_key``."""
    snapshot = {
        key: list(value) if isinstance(value, list) else value for key, value in app.config.items()
    }
    snapshot[" app.secret_key"] = app.secret_key
    return snapshot


class SuiteSessionInterface(SessionInterface):
    """Installs flask-sessionstore on its app lazily, and again when the config changes."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.installed: SessionInterface | None = None
        self.built_from: dict[str, Any] | None = None

    def current(self, app: Flask) -> SessionInterface | None:
        """The interface ``init_app`` installed for the app's current config, or None."""
        if not (app.config.get("SESSION_SECRET") or app.secret_key):
            _note("no secret")
            return None
        snapshot = _config_snapshot(app)
        if self.installed is None or snapshot != self.built_from:
            try:
                SessionStore(store=self.store).init_app(app)
                self.installed = app.session_interface
            finally:
                app.session_interface = self
            self.built_from = snapshot
        _note("served")
        return self.installed

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        interface = self.current(app)
        return None if interface is None else interface.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        interface = self.current(app)
        if interface is not None:
            interface.save_session(app, session, response)

    def make_null_session(self, app: Flask) -> Any:
        # outside the cookie path the extension has its own null session class
        interface = self.installed if app.secret_key or app.config.get("SESSION_SECRET") else None
        return (interface or super()).make_null_session(app)


_original_init = Flask.__init__


def _init_with_extension(self: Flask, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    if type(self.session_interface) is SecureCookieSessionInterface:
        self.session_interface = SuiteSessionInterface()
    else:
        _note("own interface")


# -- pytest hooks ---------------------------------------------------------------

#: Node ID -> the events of that test (see ``_events``).
_reached: dict[str, set[str]] = {}
_unmatched: list[str] = []
_problems: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    Flask.__init__ = _init_with_extension  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    Flask.__init__ = _original_init  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    overlap = set(CONTRACT_DIFFERENCES) & set(KNOWN_BUGS)
    if overlap:
        raise pytest.UsageError(f"listed both as contract difference and bug: {sorted(overlap)}")
    by_id = {item.nodeid: item for item in items}
    for mapping in (CONTRACT_DIFFERENCES, KNOWN_BUGS):
        for nodeid, expected in mapping.items():
            item = by_id.get(nodeid)
            if item is None:
                _unmatched.append(nodeid)
                continue
            item.add_marker(
                pytest.mark.xfail(strict=True, reason=expected.reason, raises=expected.raises)
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    with _events_lock:
        _events.clear()
    try:
        return (yield)
    finally:
        with _events_lock:
            _reached[item.nodeid] = set(_events)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    write = terminalreporter.write_line
    terminalreporter.section("flask-sessionstore under Flask's own tests")
    served = [nodeid for nodeid, events in _reached.items() if "served" in events]
    write(f"{len(served)} of {len(_reached)} tests reached flask-sessionstore")
    for nodeid, events in sorted(_reached.items()):
        if "served" not in events:
            why = ", ".join(sorted(events)) or "no session opened"
            write(f"  not reached: {nodeid} ({why})")
    stats = terminalreporter.stats
    xfailed = [report.nodeid for report in stats.get("xfailed", [])]
    write(
        f"{len(stats.get('passed', []))} passed; "
        f"{sum(n in CONTRACT_DIFFERENCES for n in xfailed)} xfail (contract difference); "
        f"{sum(n in KNOWN_BUGS for n in xfailed)} xfail (known bug)"
    )
    for nodeid in _unmatched:
        write(f"ERROR: expected.py names {nodeid}, which was not collected", red=True)
    for problem in _problems:
        write(f"FAILED: {problem}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # runs before the terminal summary, which prints _problems
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if session.testscollected == 0:
        _problems.append("the selection collected no test")
    if skipped:
        _problems.append(f"{skipped} test(s) skipped: a skip is not a pass here")
    if _unmatched:
        _problems.append(f"{len(_unmatched)} entries of expected.py name no collected test")
    if _reached and not any("served" in events for events in _reached.values()):
        _problems.append("no test reached flask-sessionstore: the plugin did not take effect")
    if _problems and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
