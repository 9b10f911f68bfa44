"""RedisStore outages on a real redis-server of the test's own: killed, hung, unreachable.

Each scenario checks what api.md section 3 promises: the request that meets
the outage gets 503 with ``Retry-After`` within 1.5 x the store's
``timeout``, having called the store once; while Redis is known to be down
session requests fail in under 50 ms; a route that never uses the session is
unaffected; and the same app recovers, without a restart, once Redis answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient

from flask_sessionstore import RedisStore, SessionStore, StoreUnavailableError
from flask_sessionstore.stores.base import Loaded, Write
from tests.mongo_server import free_port
from tests.redis_server import RedisServer

TIMEOUT = 0.5
FAST = 0.05


class CountingRedisStore(RedisStore):
    """A RedisStore that counts the session layer's calls."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls = 0

    def load(self, sid: str) -> Loaded | None:
        self.calls += 1
        return super().load(sid)

    def write(self, sid: str, write: Write) -> Loaded | None:
        self.calls += 1
        return super().write(sid, write)

    def refresh(self, sid: str, write: Write) -> Loaded | None:
        self.calls += 1
        return super().refresh(sid, write)

    def destroy(self, sid: str) -> None:
        self.calls += 1
        super().destroy(sid)


def outage_app(store: RedisStore) -> FlaskClient:
    app = Flask(__name__)
    # Not TESTING: a store error must become the 503 response, as in production.
    app.config.update(SECRET_KEY="keyboard cat", PROPAGATE_EXCEPTIONS=False)
    SessionStore(app, store=store, cookie={"max_age": 3600})

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"n": session.get("n")}

    @app.get("/write")
    def write() -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    return app.test_client()


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as own:
        yield own


def timed(web: FlaskClient, path: str) -> tuple[int, float, Any]:
    started = time.monotonic()
    response = web.get(path)
    return response.status_code, time.monotonic() - started, response


def assert_unavailable(
    web: FlaskClient, store: CountingRedisStore, path: str, bound: float
) -> None:
    store.calls = 0
    status, elapsed, response = timed(web, path)
    assert status == 503, response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) >= 1
    assert elapsed <= bound, f"{path} took {elapsed:.3f} s (bound {bound} s)"
    assert store.calls == 1  # the error response never calls the store again


def recovers(web: FlaskClient, path: str, within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        response = web.get(path)
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.get_data(as_text=True)
            return response.get_json()
        time.sleep(0.1)


def outage_checks(web: FlaskClient, store: CountingRedisStore) -> None:
    assert_unavailable(web, store, "/read", 1.5 * TIMEOUT)
    for path in ("/read", "/write"):  # known down: fail fast
        assert_unavailable(web, store, path, FAST)
    status, elapsed, _ = timed(web, "/health")
    assert status == 200 and elapsed < FAST


def test_a_killed_redis_fails_fast_and_the_app_recovers(server: RedisServer) -> None:
    store = CountingRedisStore(url=server.url, timeout=TIMEOUT)
    web = outage_app(store)
    assert web.get("/write").get_json() == {"n": 1}

    server.kill()
    outage_checks(web, store)

    server.start()  # same port; the data was in memory only, so the session is new
    assert recovers(web, "/write") == {"n": 1}
    assert web.get("/write").get_json() == {"n": 2}
    store.close()


def test_a_hung_redis_times_out_then_fails_fast_and_recovers(server: RedisServer) -> None:
    store = CountingRedisStore(url=server.url, timeout=TIMEOUT)
    web = outage_app(store)
    assert web.get("/write").get_json() == {"n": 1}

    server.pause()
    try:
        outage_checks(web, store)
    finally:
        server.resume()
    assert recovers(web, "/read") == {"n": 1}  # same cookie, data intact
    assert web.get("/write").get_json() == {"n": 2}
    store.close()


def test_an_unreachable_redis_fails_fast_and_is_used_once_it_starts() -> None:
    port = free_port()
    store = CountingRedisStore(url=f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT)
    web = outage_app(store)
    assert web.get("/health").status_code == 200  # never touches the session
    assert_unavailable(web, store, "/write", 1.5 * TIMEOUT)
    assert_unavailable(web, store, "/write", FAST)
    with RedisServer(port):
        assert recovers(web, "/write") == {"n": 1}
    store.close()


@pytest.mark.parametrize("case", ["down", "wrong password"])
def test_outage_errors_name_the_store_never_the_password(case: str) -> None:
    with RedisServer(None, "--requirepass", "the-right-one") as server:
        if case == "down":
            server.kill()
        store = RedisStore(url=f"redis://:hunter2@127.0.0.1:{server.port}/0", timeout=TIMEOUT)
        with pytest.raises(StoreUnavailableError) as caught:
            store.load("sid")
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    # as an error tracker renders it: every frame's locals, the chain included
    seen = []
    error: BaseException | None = caught.value
    while error is not None:
        seen.append(str(error))
        trace = error.__traceback__
        while trace is not None:
            seen.extend(repr(value) for value in trace.tb_frame.f_locals.values())
            trace = trace.tb_next
        error = error.__cause__ or error.__context__
    assert len(seen) > 5
    assert not [text for text in seen if "hunter2" in text]
