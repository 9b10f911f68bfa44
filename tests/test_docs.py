"""The Sphinx docs build with warnings as errors, and document every public name."""

from __future__ import annotations

import json
import re

import pytest

import flask_sessionstore
from tests.docs_build import (
    ROOT,
    SNIPPETS,
    BuiltDocs,
    all_code_blocks,
    built_docs,
    snippet_files,
)

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
        "redis",
        "production",
        "troubleshooting",
        "accounts",
        "stores",
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
    for keyword, parameter in keywords.items():
        if keyword != "app" and parameter.kind is not parameter.VAR_KEYWORD:
            assert f'<span class="pre">{keyword}</span>' in page, keyword


# --- Every code block is run, or says why not -----------------------------------

#: Languages of blocks written inline in a page (not included from a file):
#: file trees and diagrams, shell sessions, and other programs' code
#: (mongosh commands, the Express side of a shared login), which this
#: Python suite does not run.
INLINE_LANGUAGES = {"text", "console", "javascript"}
#: Console commands and the test that runs each kind.
CONSOLE_COMMANDS = {
    "pip install ": "test_quickstart.py (installed, or resolved with --dry-run)",
    "python -c ": "test_doc_snippets.py::test_the_secret_generating_command...",
    "python -m pytest": "test_doc_snippets.py::test_the_testing_page_tests_pass",
    "gunicorn ": "test_doc_snippets.py::test_the_gunicorn_command_lines...",
    "flask --app app ": "test_quickstart.py (quickstart page only)",
    "export MONGODB_URI=": "test_quickstart.py (quickstart page only)",
}
#: Pages whose console blocks show sample sessions of a deployment that the
#: suite cannot reproduce verbatim (IDs, counts): the CLI's own tests cover
#: the commands.
ILLUSTRATIVE_CONSOLE_PAGES = {"cli"}


def test_every_code_block_is_included_from_a_tested_file_or_marked(
    built_docs: BuiltDocs,
) -> None:
    problems = []
    for block in all_code_blocks(built_docs):
        if block.from_docstring:
            continue  # the package's docstrings: the package's business
        if block.included is not None:
            inside = (SNIPPETS, ROOT / "flask_sessionstore")
            if not any(block.included.is_relative_to(folder) for folder in inside):
                problems.append(f"{block.where()} includes {block.included}")
            continue
        if block.language not in INLINE_LANGUAGES:
            problems.append(
                f"{block.where()}: inline {block.language or 'python'} code; put it in "
                "docs/snippets/ and literalinclude it, so a test runs it"
            )
        elif block.language == "console" and block.page not in ILLUSTRATIVE_CONSOLE_PAGES:
            text = block.text.replace("\\\n", " ")
            for line in text.splitlines():
                command = line[2:]
                known = [kind for kind in CONSOLE_COMMANDS if command.startswith(kind)]
                if line.startswith("$ ") and not known:
                    problems.append(f"{block.where()}: no test runs `{command}`")
                if known and known[0].startswith(("flask", "export")):
                    assert block.page == "quickstart", block.where()
    assert problems == []


def test_every_snippet_file_is_shown_by_a_page(built_docs: BuiltDocs) -> None:
    shown = {block.included for block in all_code_blocks(built_docs) if block.included}
    assert snippet_files() - shown == set()


def test_code_blocks_fit_the_page(built_docs: BuiltDocs) -> None:
    # The code box holds 80 columns (alabaster, 1024 px and wider), a note or
    # warning box about 75; longer lines make it scroll sideways. The
    # package's own code wraps instead (the package-source class).
    too_long = [
        f"{block.where()}: {line!r}"
        for block in all_code_blocks(built_docs)
        if not block.from_docstring
        and not (block.included and block.included.is_relative_to(ROOT / "flask_sessionstore"))
        for line in block.text.splitlines()
        if len(line) > (72 if block.in_admonition else 79)
    ]
    assert too_long == []


def test_the_readme_shows_tested_code(built_docs: BuiltDocs) -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    assert blocks, "the README shows the index page's example"
    snippets = {p.read_text() for p in SNIPPETS.rglob("*.py")}
    for block in blocks:
        assert block in snippets, f"README block is not a docs/snippets file:\n{block}"


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
