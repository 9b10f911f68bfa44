"""The Sphinx docs build with warnings as errors, and document every public name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import flask_sessionstore

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make docs`` into a temporary directory: ``-W --keep-going``, fresh environment."""
    out = tmp_path_factory.mktemp("docs-html")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            "-b",
            "html",
            "-d",
            str(out / ".doctrees"),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr}\n{result.stdout}"
    return out


def test_docs_build_without_warnings(built_docs: Path) -> None:
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
        assert (built_docs / f"{page}.html").is_file(), page


@pytest.mark.parametrize("name", flask_sessionstore.__all__)
def test_every_public_name_has_a_docstring_in_the_api_reference(
    built_docs: Path, name: str
) -> None:
    assert getattr(flask_sessionstore, name).__doc__, f"{name} has no docstring"
    api = (built_docs / "api.html").read_text(encoding="utf-8")
    assert f'id="flask_sessionstore.{name}"' in api


def test_the_configuration_reference_names_every_keyword(built_docs: Path) -> None:
    import inspect

    page = (built_docs / "configuration.html").read_text(encoding="utf-8")
    keywords = inspect.signature(flask_sessionstore.SessionStore).parameters
    for keyword, parameter in keywords.items():
        # (``**unknown`` only exists to turn a misspelt keyword into a clear error)
        if keyword != "app" and parameter.kind is not inspect.Parameter.VAR_KEYWORD:
            assert f'<span class="pre">{keyword}</span>' in page, keyword
