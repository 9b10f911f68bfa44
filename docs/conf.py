"""Sphinx configuration for flask-sessionstore (``make docs``; no network needed)."""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import flask_sessionstore  # noqa: E402

project = "flask-sessionstore"
author = "flask-sessionstore contributors"
copyright = "2026, flask-sessionstore contributors"
release = flask_sessionstore.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]
# No intersphinx: the build must work offline and never touch the network.

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
python_maximum_signature_line_length = 88
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True}

default_role = "code"
pygments_style = "friendly"
exclude_patterns = ["_build"]

html_theme = "alabaster"
html_title = f"flask-sessionstore {release}"
html_theme_options = {
    "description": "express-session's server-side sessions for Flask",
    "fixed_sidebar": True,
    "page_width": "1240px",
    "sidebar_width": "230px",
}
html_static_path = ["_static"]


def _trim_included_code(app: object, doctree: nodes.document) -> None:
    """Drop the blank lines a literalinclude ``:end-before:`` leaves at the end."""
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if block.get("source") and text != text.rstrip("\n"):
            trimmed = text.rstrip("\n")
            block.rawsource = trimmed
            block.children = [nodes.Text(trimmed)]


def setup(app: object) -> None:
    app.connect("doctree-read", _trim_included_code)  # type: ignore[attr-defined]
