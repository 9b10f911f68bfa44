"""The Sphinx docs build with warnings as errors, and document every public name."""

from __future__ import annotations

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
        "security",
        "mongodb",
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
