"""The Sphinx docs build with warnings as errors, and document every public name."""

from __future__ import annotations

import json

import pytest

import flask_sessionstore
from tests.docs_build import BuiltDocs, built_docs

__all__ = ["built_docs"]  # the fixture, imported for pytest


def test_docs_build_without_warnings(built_docs: BuiltDocs) -> None:
    for page in (
        "index",
        "quickstart",
        "configuration",
        "concepts",
        "flash",
        "migration",
        "testing",
        "security",
        "mongodb",
        "production",
        "troubleshooting",
        "cli",
        "api",
        "changelog",
    ):
        assert (built_docs.html / f"{page}.html").is_file(), page


@pytest.mark.parametrize("name", flask_sessionstore.__all__)
def test_every_public_name_has_a_docstring_in_the_api_reference(
    built_docs: BuiltDocs, name: str
) -> None:
    assert getattr(flask_sessionstore, name).__doc__, f"{name} has no docstring"
    api = (built_docs.html / "api.html").read_text(encoding="utf-8")
    assert f'id="flask_sessionstore.{name}"' in api


def test_the_configuration_reference_names_every_keyword(built_docs: BuiltDocs) -> None:
    import inspect

    page = (built_docs.html / "configuration.html").read_text(encoding="utf-8")
    keywords = inspect.signature(flask_sessionstore.SessionStore).parameters
    for keyword in keywords:
        if keyword != "app":
            assert f'<span class="pre">{keyword}</span>' in page, keyword


def search(built_docs: BuiltDocs, query: str) -> set[str]:
    """The pages Sphinx's search page lists for ``query`` (every word must match)."""
    from sphinx.search.en import SearchEnglish

    text = (built_docs.html / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1 : text.rindex(")")])
    stemmer = SearchEnglish(options={})
    found: set[str] | None = None
    for word in query.split():
        stem = stemmer.stem(word.lower())
        pages: set[int] = set()
        for table in (index["terms"], index["titleterms"]):
            hits = table.get(stem, [])
            pages |= {hits} if isinstance(hits, int) else set(hits)
        names = {index["docnames"][page] for page in pages}
        found = names if found is None else found & names
    return found or set()


@pytest.mark.parametrize(
    ("query", "pages"),
    [
        ("MongoStore production", {"mongodb", "production"}),
        ("gunicorn preload", {"production"}),
        ("session_transaction freezegun", {"testing"}),
        ("maxAge saveUninitialized", {"troubleshooting"}),
        ("install pip", {"quickstart", "index"}),
    ],
)
def test_the_search_page_finds(built_docs: BuiltDocs, query: str, pages: set[str]) -> None:
    assert pages <= search(built_docs, query)
