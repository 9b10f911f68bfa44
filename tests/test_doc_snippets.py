"""Every code file the docs include from ``docs/snippets/`` runs, and does what the page says.

Each test below runs one snippet (or a group that belongs together) the way
a reader would use it, then checks the page's claim about it.  Snippets are
loaded as modules under a name of their own, so ``Flask(__name__)`` finds
templates beside the file, in an environment with the variables the docs
tell the reader to set (``MONGODB_URI`` points at the SecantusDB server the
test suite starts, one database per snippet).

``test_every_snippet_is_run_or_pending`` keeps the list complete: a new file
under ``docs/snippets`` needs a test here or an entry in ``PENDING``.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pymongo
import pytest
from flask import Flask, session

from flask_sessionstore import MemoryStore, MongoStore
from tests.docs_build import SNIPPETS, built_docs, snippet_files
from tests.mongo_server import secantus_uri
from tests.quickstart_client import drive

__all__ = ["built_docs", "secantus_uri"]  # the fixtures, imported for pytest

# Snippets the docs show but the suite does not run yet, each waiting for a
# change to the package.  To switch one on, delete its line: the test that
# covers it (or the skip below, for the testing module) then runs it.
PENDING: dict[str, str] = {}

#: Each test's snippet files, relative to docs/snippets (filled by @covers).
COVERED: dict[str, str] = {}

F = TypeVar("F", bound=Callable[..., None])


def covers(*names: str) -> Callable[[F], F]:
    """Mark a test as the one that runs these snippet files."""

    def mark(test: F) -> F:
        for name in names:
            assert name not in COVERED, f"{name} is covered twice"
            COVERED[name] = test.__name__
        pending = [PENDING[name] for name in names if name in PENDING]
        if pending:
            return pytest.mark.skip(reason=f"pending: {pending[0]}")(test)  # type: ignore[no-any-return]
        return test

    return mark


class Snippets:
    """Loads snippet files as a reader would run them."""

    counter = itertools.count()

    def __init__(self, mongo_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.database = f"docs_snippet_{next(self.counter)}"
        self.client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri)
        self.client.drop_database(self.database)
        self.tmp_path = tmp_path
        self.loaded: list[str] = []
        self.modules: list[ModuleType] = []
        for name, value in {
            "SECRET_KEY": "docs secret",
            "OLD_SECRET_KEY": "the previous docs secret",
            "OLD_SECRET_KEYS": "",
            "SESSION_SECRET": "keyboard cat",
            "SESSION_CRYPTO_SECRET": "docs crypto secret",
            "MONGODB_URI": mongo_uri + self.database,
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)

    @property
    def db(self) -> Any:
        return self.client[self.database]

    def load(self, name: str) -> ModuleType:
        """Run ``docs/snippets/<name>`` as a module; only the MemoryStore warning is allowed."""
        path = SNIPPETS / name
        module_name = "docs_snippet_" + re.sub(r"\W", "_", name.removesuffix(".py"))
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # Flask(__name__) finds its folder through it
        self.loaded.append(module_name)
        self.modules.append(module)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            spec.loader.exec_module(module)
        for warning in caught:
            if issubclass(warning.category, ResourceWarning):
                continue  # the garbage collector finishing another test's objects
            shown = f"{warning.category.__name__}: {warning.message} ({warning.filename})"
            assert issubclass(warning.category, RuntimeWarning), shown
            assert "MemoryStore" in str(warning.message), shown
        return module

    def close(self) -> None:
        """Forget the modules and close the MongoDB clients their stores opened."""
        for module in self.modules:
            stores = [getattr(module, "store", None)]
            app = getattr(module, "app", None)
            if isinstance(app, Flask) and "sessionstore" in app.extensions:
                stores.append(app.extensions["sessionstore"].store)
            for store in stores:
                if isinstance(store, MongoStore):
                    store.close()
        for name in self.loaded:
            sys.modules.pop(name, None)
        self.client.close()


@pytest.fixture
def snippets(
    secantus_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Snippets]:
    runner = Snippets(secantus_uri, monkeypatch, tmp_path)
    try:
        yield runner
    finally:
        runner.close()


def add_write_view(app: Flask) -> None:
    """A view that writes to the session, for snippets that define no views."""

    @app.get("/_write")
    def write() -> dict[str, Any]:
        session["user"] = "alice"
        return {"id": session.id}  # type: ignore[attr-defined]


def set_cookie_headers(response: Any) -> list[str]:
    return list(response.headers.getlist("Set-Cookie"))


# --- the pages -----------------------------------------------------------------


@covers("quickstart/app.py", "quickstart/templates/index.html")
def test_quickstart_app_logs_in_counts_and_logs_out(snippets: Snippets) -> None:
    app = snippets.load("quickstart/app.py").app
    assert isinstance(app.extensions["sessionstore"].store, MemoryStore)
    drive(app)


@covers("quickstart/mongo.py")
def test_quickstart_with_mongodb_changes_only_the_store(snippets: Snippets) -> None:
    memory = (SNIPPETS / "quickstart/app.py").read_text()
    mongo = (SNIPPETS / "quickstart/mongo.py").read_text()
    marker = "# Log in:"
    assert mongo.split(marker)[1] == memory.split(marker)[1], "the views are the same"
    app = snippets.load("quickstart/mongo.py").app
    drive(app)
    (document,) = snippets.db.sessions.find()  # logged out: the goodbye session
    assert json.loads(document["session"])["cookie"]["sameSite"] == "lax"


def test_every_snippet_is_run_or_pending() -> None:
    files = {str(path.relative_to(SNIPPETS)) for path in snippet_files()}
    assert files - set(COVERED) == set(), "add a test with @covers(...) for these snippets"
    assert set(COVERED) - files == set(), "these covered snippets no longer exist"
    assert set(PENDING) <= files
