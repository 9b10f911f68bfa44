"""The Sphinx build the docs tests share, and the code blocks it shows.

``built_docs`` is a session-scoped fixture: ``sphinx-build -W --keep-going``
into a temporary folder, once per test run, doctrees kept beside the HTML.
Import it into a test module (``from tests.docs_build import built_docs``).

:func:`code_blocks` reads the pickled doctrees, so a test sees each code
block exactly as the page shows it: after ``literalinclude`` picked its
lines, with its caption and language.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from docutils import nodes

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SNIPPETS = DOCS / "snippets"


@dataclass(frozen=True)
class BuiltDocs:
    """Where one build put its HTML and its doctrees."""

    html: Path
    doctrees: Path

    def pages(self) -> list[str]:
        """The document names, in a stable order (``index``, ``quickstart``...)."""
        return sorted(p.stem for p in self.doctrees.glob("*.doctree"))

    def doctree(self, page: str) -> nodes.document:
        with (self.doctrees / f"{page}.doctree").open("rb") as file:
            document: nodes.document = pickle.load(file)  # our own build's output
        return document


@dataclass(frozen=True)
class CodeBlock:
    """One code block as a page shows it."""

    page: str
    language: str | None
    caption: str | None
    #: the included file for ``literalinclude``, else None
    included: Path | None
    #: the docutils source: the .rst file, or ``file.py:docstring of name``
    origin: str
    text: str
    #: line numbers (from 1) the block highlights with ``:emphasize-lines:``
    highlighted: tuple[int, ...] = ()
    #: inside a note, warning... (a narrower box)
    in_admonition: bool = False

    @property
    def from_docstring(self) -> bool:
        """True for a block autodoc took from the package's docstrings."""
        return ":docstring of " in self.origin

    def where(self) -> str:
        label = f" ({self.caption})" if self.caption else ""
        return f"{self.page}.rst{label}: {self.text.splitlines()[0] if self.text else ''!r}"


def ancestors(node: nodes.Node) -> Iterator[nodes.Node]:
    while node.parent is not None:
        node = node.parent
        yield node


def code_blocks(docs: BuiltDocs, page: str) -> Iterator[CodeBlock]:
    """Every literal block of ``page``, in page order."""
    for node in docs.doctree(page).findall(nodes.literal_block):
        caption = None
        parent = node.parent
        if isinstance(parent, nodes.container) and parent.get("literal_block"):
            captions = [child for child in parent.children if isinstance(child, nodes.caption)]
            caption = captions[0].astext() if captions else None
        included = node.get("source")
        yield CodeBlock(
            page=page,
            language=node.get("language"),
            caption=caption,
            included=Path(included).resolve() if included else None,
            origin=str(node.source or ""),
            text=node.astext(),
            highlighted=tuple(node.get("highlight_args", {}).get("hl_lines", ())),
            in_admonition=any(isinstance(a, nodes.Admonition) for a in ancestors(node)),
        )


def snippet_files() -> set[Path]:
    """The files under ``docs/snippets`` (not caches, not ruff's config)."""
    return {
        path
        for path in SNIPPETS.rglob("*")
        if path.is_file()
        and path.name != "ruff.toml"
        and not any(part.startswith((".", "__")) for part in path.relative_to(SNIPPETS).parts)
    }


def all_code_blocks(docs: BuiltDocs) -> list[CodeBlock]:
    return [block for page in docs.pages() for block in code_blocks(docs, page)]


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> BuiltDocs:
    """``make docs`` into a temporary directory: ``-W --keep-going``, fresh environment."""
    out = tmp_path_factory.mktemp("docs-html")
    doctrees = out / ".doctrees"
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
            str(doctrees),
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stderr}\n{result.stdout}"
    return BuiltDocs(html=out, doctrees=doctrees)
