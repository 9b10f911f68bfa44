"""The store guarantees (api.md section 5) in real deployment shapes.

Every test here runs one scenario against a real gunicorn server (see
:mod:`tests.deploy`) in one *cell* of the matrix:

* a worker shape (:data:`tests.deploy.launcher.SHAPES`): ``sync`` (one
  process, one thread), ``gthread4`` (4 threads), ``gevent`` without and with
  ``--preload``, and ``sync-w3`` (3 worker processes);
* a store (:data:`tests.deploy.stores.STORE_KINDS`): MemoryStore (single
  process shapes only: it lives in one process) and MongoStore on a
  SecantusDB server;
* a view style (:data:`tests.deploy.app.VIEW_STYLES`): plain ``def``,
  ``async def``, and ``def`` doing its session work in a thread started
  with ``copy_current_request_context``.

The scenarios, each counting what went wrong instead of stopping at the
first miss, and each asserting that every count is exactly zero:

* concurrent first requests on a fresh worker are all answered (none
  deadlocked);
* clients sharing one cookie and incrementing disjoint keys lose nothing;
* a logout (``session.destroy()``), a logout by ``session.pop("user")``
  whose result equals an earlier stored value exactly (the ABA case), and an
  admin revoke, each racing a request in flight that loaded the session and
  changed another key, are never undone.

Two kinds of cells are left out by construction, never skipped: the racing
scenarios need a second request served while one is in flight, which a
single sync worker cannot do; and ``async def`` views cannot overlap at all
in a gevent worker, whatever the store (see :func:`can_overlap`, pinned by
:func:`test_async_views_cannot_overlap_under_gevent`).

Time.  Every request has a timeout (:data:`~tests.deploy.client.REQUEST_TIMEOUT`,
6 s; a request held in flight waits at most 3 s more), every scenario a
deadline (:data:`SCENARIO_DEADLINE`) checked between its steps, and the
module a budget (:data:`MODULE_BUDGET`, 300 s): once it is used up the
remaining cells fail at once, so the module can never run longer than
that plus one scenario.  A deadlocked worker costs one request timeout
(its failure message shows its stack), then its server is killed and a
fresh one started for the next cell.  A whole run (98 tests, 9 deployments)
takes about 100 s on the 2-core machines CI uses (2 minutes when other work
shares the cores); the per-cell counts of the last run are written to
``test-artifacts/deployment-matrix.md``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

# The matrix needs these in the venv that runs gunicorn (the ``test`` extra):
# a missing one is a collection error of this module, never a skipped cell.
import asgiref  # noqa: F401
import gevent  # noqa: F401
import pytest

from tests.deploy.app import IN_FLIGHT_WAIT, VIEW_STYLES
from tests.deploy.client import REQUEST_TIMEOUT, Deadline, NoAnswer, Reply, send
from tests.deploy.launcher import ROOT, SHAPES, Gunicorn, Shape
from tests.deploy.signals import Signals
from tests.deploy.stores import STORE_KINDS, StoreKind

pytestmark = pytest.mark.deploy

# Sizes: big enough to show the races measured on the code before the fix
# in every affected cell, and no bigger.
#: Clients sharing one session cookie, each incrementing its own key ...
CLIENTS = 8
#: ... this many times.  (Before the fix, gevent --preload lost 3 to 72 of
#: 480 per cell, MemoryStore with thread views about 300; the weakest cell,
#: MongoStore with thread views, 0.6 to 6 %, so 720 rather than 480.)
INCREMENTS = 90
#: New visitors arriving at once on a fresh worker.
FIRST_VISITORS = 4
#: Trials of each racing scenario.  (The ABA logout came back in 35 to 100 %
#: of trials, least often under sync-w3: 15 trials all miss it < 0.2 % of runs.)
TRIALS = 15
#: Read-only requests an anonymous visitor's page makes at once before logging in.
PAGE_VIEWS = 6
#: Seconds one scenario may take (checked between its steps).
SCENARIO_DEADLINE = 30.0
#: Seconds the whole module may take; cells after that fail at once.
MODULE_BUDGET = 300.0
ARTIFACT = ROOT / "test-artifacts" / "deployment-matrix.md"


# -- the matrix ------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """One gunicorn shape serving one store."""

    shape: Shape
    store: StoreKind

    @property
    def id(self) -> str:
        return f"{self.shape.name}-{self.store.name}"


DEPLOYMENTS = [
    Deployment(shape, kind)
    for shape in SHAPES
    for kind in STORE_KINDS.values()
    if kind.shared or shape.workers == 1
]
RACING = [deployment for deployment in DEPLOYMENTS if deployment.shape.concurrent]


@dataclass(frozen=True)
class Cell:
    """One deployment with one view style."""

    deployment: Deployment
    view: str

    @property
    def id(self) -> str:
        return f"{self.deployment.id}-{self.view}"


def can_overlap(deployment: Deployment, view: str) -> bool:
    """Whether two requests to ``view`` can be in flight at once in ``deployment``.

    Not ``async def`` views under gevent: asyncio keeps the running event loop
    per OS thread and a gevent worker serves every request on one OS thread,
    so while one async view runs, the next fails in asgiref ("You cannot use
    AsyncToSync in the same thread as an async event loop"), whatever the
    store.  :func:`test_async_views_cannot_overlap_under_gevent` pins that;
    when it fails, these cells can join the matrix.
    """
    return not (deployment.shape.worker_class == "gevent" and view == "async")


def in_cells(deployments: list[Deployment]) -> pytest.MarkDecorator:
    """Run a test once per cell: each deployment with each view style it can serve.

    The module scope makes pytest run the cells of one deployment one after
    the other, so :class:`Servers` starts each deployment's server once.
    """
    cells = [
        Cell(deployment, view)
        for deployment in deployments
        for view in VIEW_STYLES
        if can_overlap(deployment, view)
    ]
    return pytest.mark.parametrize("cell", cells, ids=[c.id for c in cells], scope="module")


# -- servers ----------------------------------------------------------------------


class StoreServers:
    """The stores' own servers (SecantusDB), started on first use, one per module."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._urls: dict[str, str] = {}

    def url(self, kind: StoreKind) -> str:
        if kind.server is None:
            return ""
        if kind.name not in self._urls:
            self._urls[kind.name] = self._stack.enter_context(kind.server())
        return self._urls[kind.name]


class Server:
    """A running deployment."""

    def __init__(self, deployment: Deployment, gunicorn: Gunicorn) -> None:
        self.deployment = deployment
        self.gunicorn = gunicorn
        self.signals = Signals(gunicorn.signals_folder)
        #: Set when a request got no answer: the next cell starts a fresh server.
        self.suspect = False


class Servers:
    """At most one running gunicorn: the one of the deployment the current cell needs."""

    def __init__(self, store_servers: StoreServers) -> None:
        self.store_servers = store_servers
        self.current: Server | None = None

    def site(self, cell: Cell, scenario: str) -> Site:
        """The cell's namespace for ``scenario``, on a server known to answer."""
        server = self.current
        if server is None or server.deployment != cell.deployment:
            self.close()
            deployment = cell.deployment
            url = self.store_servers.url(deployment.store)
            gunicorn = Gunicorn(deployment.shape, deployment.store.name, url)
            self.current = server = Server(deployment, gunicorn)
            gunicorn.start()
        elif server.suspect or not server.gunicorn.answers(timeout=2.0):
            server.gunicorn.restart()  # a fresh run: new port, new namespaces
            server.suspect = False
        return Site(server, f"/{scenario}/{cell.view}")

    def close(self) -> None:
        server, self.current = self.current, None
        if server is not None:
            server.gunicorn.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with ExitStack() as stack:
        pool = Servers(StoreServers(stack))
        stack.callback(pool.close)  # (runs before the store servers stop)
        yield pool


@pytest.fixture(scope="module")
def module_clock() -> Deadline:
    return Deadline(MODULE_BUDGET)


class Site:
    """One namespace (scenario and view style) of a running server."""

    def __init__(self, server: Server, prefix: str) -> None:
        self.server = server
        self.prefix = prefix
        self.port = server.gunicorn.port
        self.signals = server.signals

    def send(
        self,
        method: str,
        path: str,
        cookie: str | None = None,
        *,
        timeout: float = REQUEST_TIMEOUT,
    ) -> Reply:
        """One request; NoAnswer marks the server suspect, a status but 200 raises Unexpected."""
        try:
            reply = send(self.port, method, self.prefix + path, cookie=cookie, timeout=timeout)
        except NoAnswer:
            self.server.suspect = True
            raise
        if reply.status != 200:
            raise Unexpected(f"{method} {path}: status {reply.status}, body {reply.body!r}")
        return reply

    def stored(self, sid: str) -> dict[str, Any] | None:
        """What the store holds for ``sid`` now, as the app's store sees it."""
        stored: dict[str, Any] | None = self.send("GET", f"/admin/peek/{sid}").body["stored"]
        return stored


class Unexpected(Exception):
    """An answered request whose status or body the scenario did not expect."""


# -- counting -----------------------------------------------------------------------


@dataclass
class Tally:
    """What went wrong in one cell, counted."""

    #: Requests that got no answer within their timeout (a deadlocked worker).
    unanswered: int = 0
    #: Answered requests with another status or body than expected.
    errors: int = 0
    #: Changes that a 200 response confirmed but the store does not hold.
    lost: int = 0
    #: Sessions (or a removed ``user``) back in the store after a logout won.
    resurrected: int = 0
    #: How many requests, trials or increments the scenario ran.
    runs: int = 0
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def failed(self, kind: str, what: object, count: int = 1) -> None:
        """Count ``count`` failures of ``kind``, noting the first few."""
        with self.lock:
            setattr(self, kind, getattr(self, kind) + count)
            if len(self.notes) < 6:
                self.notes.append(f"{kind}: {what}")

    def counts(self) -> dict[str, int]:
        return {
            "unanswered": self.unanswered,
            "errors": self.errors,
            "lost": self.lost,
            "resurrected": self.resurrected,
        }

    def report(self, server: Server) -> str:
        lines = [f"{self.counts()} over {self.runs}", *self.notes]
        if self.unanswered:
            gunicorn = server.gunicorn
            if gunicorn.answers(timeout=1.0):
                lines.append("GET / (no session, no store) is answered: only session requests hang")
            else:
                lines.append(
                    "GET / (no session, no store) gets no answer either: the worker is stuck"
                )
            lines.append("the workers' stacks and the end of the gunicorn log:")
            lines.append(gunicorn.dump_stacks())
        elif self.errors:
            lines.append("the end of the gunicorn log:")
            lines.append(server.gunicorn.log_tail(2000))
        return "\n".join(lines)


NOTHING_WRONG = {"unanswered": 0, "errors": 0, "lost": 0, "resurrected": 0}


def guarded(tally: Tally, step: Callable[[], object]) -> bool:
    """Run one step; count a request without answer or an unexpected answer."""
    try:
        step()
    except NoAnswer as exc:
        tally.failed("unanswered", exc)
        return False
    except Unexpected as exc:
        tally.failed("errors", exc)
        return False
    return True


def at_once(tally: Tally, steps: list[Callable[[], object]], timeout: float) -> bool:
    """Run ``steps`` in threads started together, waiting at most ``timeout`` seconds;
    True when every step succeeded (failures are counted in ``tally``).
    """
    succeeded: list[bool] = []

    def run(step: Callable[[], object]) -> None:
        succeeded.append(guarded(tally, step))

    threads = [threading.Thread(target=run, args=(step,), daemon=True) for step in steps]
    for thread in threads:
        thread.start()
    until = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, until - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        tally.failed("errors", f"{stuck} client threads still running after {timeout:g} s")
    return not stuck and all(succeeded)


class Recorder:
    """Collects each cell's counts and writes them to :data:`ARTIFACT` at module end."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    def add(self, name: str, tally: Tally, seconds: float) -> None:
        verdict = "pass" if tally.counts() == NOTHING_WRONG else "FAIL"
        counts = " | ".join(str(value) for value in tally.counts().values())
        self.rows.append(f"| {name} | {verdict} | {counts} | {tally.runs} | {seconds:.1f} |")

    def write(self) -> None:
        ARTIFACT.parent.mkdir(exist_ok=True)
        header = [
            "| cell | verdict | unanswered | errors | lost | resurrected | runs | s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        ARTIFACT.write_text("\n".join(header + self.rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.write()


@pytest.fixture
def record(
    request: pytest.FixtureRequest, recorder: Recorder, module_clock: Deadline
) -> Callable[[Tally], None]:
    """Record this cell's tally (call it before asserting)."""
    if module_clock.passed():
        pytest.fail(f"the module's time budget ({MODULE_BUDGET:g} s) is used up")
    started = time.monotonic()
    return lambda tally: recorder.add(request.node.name, tally, time.monotonic() - started)


# -- the scenarios --------------------------------------------------------------------


def first_requests_at_once(site: Site) -> Tally:
    """New visitors arrive together at a fresh worker: each is answered and stored."""
    tally = Tally(runs=FIRST_VISITORS)
    barrier = threading.Barrier(FIRST_VISITORS)
    sids: list[str] = []
    stored: list[dict[str, Any] | None] = []

    def visitor() -> None:
        barrier.wait(REQUEST_TIMEOUT)
        sids.append(site.send("POST", "/visit").body["sid"])

    at_once(tally, [visitor] * FIRST_VISITORS, REQUEST_TIMEOUT + 2)
    for sid in sids:
        if site.server.suspect:
            break
        if guarded(tally, lambda sid=sid: stored.append(site.stored(sid))) and stored[-1] is None:
            tally.failed("lost", f"new session {sid[:8]}... answered 200 but not stored")
    return tally


def increments_on_disjoint_keys(site: Site) -> Tally:
    """CLIENTS clients share one cookie; client i increments key k<i> INCREMENTS times."""
    tally = Tally(runs=CLIENTS * INCREMENTS)
    deadline = Deadline(SCENARIO_DEADLINE)
    visits: list[Reply] = []
    if not guarded(tally, lambda: visits.append(site.send("POST", "/visit"))):
        return tally
    cookie, sid = visits[0].cookie, visits[0].body["sid"]
    confirmed = [0] * CLIENTS

    def client(i: int) -> None:
        for done in range(INCREMENTS):
            if deadline.passed():
                raise Unexpected(f"client {i}: deadline passed after {done} increments")
            reply = site.send("POST", f"/incr/k{i}", cookie)
            if reply.body != {"key": f"k{i}", "value": reply.body.get("value")}:
                raise Unexpected(f"client {i}: unexpected body {reply.body!r}")
            confirmed[i] += 1

    at_once(tally, [lambda i=i: client(i) for i in range(CLIENTS)], SCENARIO_DEADLINE + 5)
    stored: list[dict[str, Any] | None] = []
    if not site.server.suspect and guarded(tally, lambda: stored.append(site.stored(sid))):
        data = stored[0] or {}
        for i, count in enumerate(confirmed):
            value = data.get(f"k{i}", 0)
            if value < count:
                tally.failed(
                    "lost", f"k{i} is {value} after {count} confirmed increments", count - value
                )
    return tally


Logout = Callable[[Site, str, str], None]
Check = Callable[[Tally, str, str, dict[str, Any] | None, dict[str, Any]], None]


def logout_racing_a_request(site: Site, logout: Logout, check: Check) -> Tally:
    """TRIALS times: a visitor browses, logs in; request A loads the session and
    changes ``theme``, and while it is in flight ``logout`` ends the login; then
    A finishes, and ``check`` judges what the store and the old cookie show.
    """
    tally = Tally()
    deadline = Deadline(SCENARIO_DEADLINE)
    for trial in range(TRIALS):
        if deadline.passed():
            tally.failed("errors", f"deadline passed after {trial} of {TRIALS} trials")
            break
        tally.runs += 1
        if not guarded(tally, lambda: one_race(site, tally, logout, check)) and site.server.suspect:
            break  # the worker stopped answering: the other trials would only wait too
    return tally


def one_race(site: Site, tally: Tally, logout: Logout, check: Check) -> None:
    visit = site.send("POST", "/visit")
    cookie, sid = str(visit.cookie), visit.body["sid"]
    # the anonymous visitor opens a page: the browser fetches its parts in parallel
    page = [lambda: site.send("GET", "/whoami", cookie)] * PAGE_VIEWS
    if not at_once(tally, page, REQUEST_TIMEOUT + 1):
        return
    site.send("POST", "/login", cookie)

    token = uuid.uuid4().hex
    replies: list[Reply] = []
    failures: list[Exception] = []

    def request_a() -> None:
        try:
            timeout = IN_FLIGHT_WAIT + REQUEST_TIMEOUT
            replies.append(site.send("POST", f"/change/{token}", cookie, timeout=timeout))
        except (NoAnswer, Unexpected) as exc:
            failures.append(exc)

    in_flight = threading.Thread(target=request_a, daemon=True)
    in_flight.start()
    try:
        arrived = site.signals.wait_for_arrival(token, REQUEST_TIMEOUT)
        if arrived:
            logout(site, cookie, sid)
    finally:
        site.signals.go(token)
        in_flight.join(IN_FLIGHT_WAIT + REQUEST_TIMEOUT + 1)
    if failures:
        raise failures[0]
    if not arrived or not replies:
        raise Unexpected("request A never reached its waiting point")
    if not replies[0].body.get("released"):
        raise Unexpected("request A finished before the logout was done (not held in flight)")

    stored = site.stored(sid)
    after = site.send("GET", "/whoami", cookie).body
    check(tally, sid, token, stored, after)


def destroy_logout(site: Site, cookie: str, sid: str) -> None:
    site.send("POST", "/logout/destroy", cookie)
    if site.stored(sid) is not None:
        raise Unexpected("session.destroy() left the session in the store")


def pop_logout(site: Site, cookie: str, sid: str) -> None:
    site.send("POST", "/logout/pop", cookie)
    stored = site.stored(sid)
    if stored is None or "user" in stored:
        raise Unexpected(f"session.pop('user') did not leave a session without user: {stored}")


def admin_revoke(site: Site, cookie: str, sid: str) -> None:
    site.send("POST", f"/admin/revoke/{sid}")
    if site.stored(sid) is not None:
        raise Unexpected("the revoke left the session in the store")


def session_stays_gone(
    tally: Tally, sid: str, token: str, stored: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    if stored is not None or after["user"] is not None or not after["new"]:
        tally.failed(
            "resurrected", f"session {sid[:8]}...: stored {stored}; the old cookie gives {after}"
        )


def user_stays_out_and_the_change_stays_in(
    tally: Tally, sid: str, token: str, stored: dict[str, Any] | None, after: dict[str, Any]
) -> None:
    if (stored is not None and "user" in stored) or after["user"] is not None:
        tally.failed(
            "resurrected", f"session {sid[:8]}...: user is back: stored {stored}; whoami {after}"
        )
    if stored is None or stored.get("theme") != token:
        tally.failed("lost", f"session {sid[:8]}...: the in-flight change is missing: {stored}")


# -- the tests ------------------------------------------------------------------------


@in_cells(DEPLOYMENTS)
def test_first_requests_at_once_are_all_answered(
    cell: Cell, servers: Servers, record: Callable[[Tally], None]
) -> None:
    site = servers.site(cell, "first")
    tally = first_requests_at_once(site)
    record(tally)
    assert tally.counts() == NOTHING_WRONG, tally.report(site.server)


@in_cells(DEPLOYMENTS)
def test_disjoint_keys_lose_nothing(
    cell: Cell, servers: Servers, record: Callable[[Tally], None]
) -> None:
    site = servers.site(cell, "disjoint")
    tally = increments_on_disjoint_keys(site)
    record(tally)
    assert tally.counts() == NOTHING_WRONG, tally.report(site.server)


@in_cells(RACING)
def test_logout_is_not_undone_by_a_request_in_flight(
    cell: Cell, servers: Servers, record: Callable[[Tally], None]
) -> None:
    site = servers.site(cell, "logout")
    tally = logout_racing_a_request(site, destroy_logout, session_stays_gone)
    record(tally)
    assert tally.counts() == NOTHING_WRONG, tally.report(site.server)


@in_cells(RACING)
def test_logout_by_pop_stays_when_the_old_value_recurs(
    cell: Cell, servers: Servers, record: Callable[[Tally], None]
) -> None:
    site = servers.site(cell, "logout-pop")
    tally = logout_racing_a_request(site, pop_logout, user_stays_out_and_the_change_stays_in)
    record(tally)
    assert tally.counts() == NOTHING_WRONG, tally.report(site.server)


@in_cells(RACING)
def test_revoke_is_not_undone_by_a_request_in_flight(
    cell: Cell, servers: Servers, record: Callable[[Tally], None]
) -> None:
    site = servers.site(cell, "revoke")
    tally = logout_racing_a_request(site, admin_revoke, session_stays_gone)
    record(tally)
    assert tally.counts() == NOTHING_WRONG, tally.report(site.server)


def test_async_views_cannot_overlap_under_gevent(servers: Servers) -> None:
    """Why the matrix has no gevent cells with ``async def`` views (see :func:`can_overlap`)."""
    shape = next(shape for shape in SHAPES if shape.worker_class == "gevent" and not shape.preload)
    site = servers.site(Cell(Deployment(shape, STORE_KINDS["memory"]), "async"), "overlap")
    visit = site.send("POST", "/visit")
    token = uuid.uuid4().hex
    in_flight = threading.Thread(
        target=send,
        args=(site.port, "POST", f"{site.prefix}/change/{token}"),
        kwargs={"cookie": visit.cookie, "timeout": IN_FLIGHT_WAIT + REQUEST_TIMEOUT},
        daemon=True,
    )
    in_flight.start()
    try:
        assert site.signals.wait_for_arrival(token, REQUEST_TIMEOUT)
        overlapping = send(site.port, "GET", f"{site.prefix}/whoami", cookie=visit.cookie)
    finally:
        site.signals.go(token)
        in_flight.join(IN_FLIGHT_WAIT + REQUEST_TIMEOUT + 1)
    assert overlapping.status == 500
    assert "You cannot use AsyncToSync in the same thread as an async event loop" in (
        site.server.gunicorn.log_tail(20000)
    )
