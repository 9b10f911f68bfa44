"""Run Flask's own session tests against flask-sessionstore: ``python -m tests.flask_suite``.

1. Downloads the sdist of the Flask version installed in this venv (pip, from
   the package index; cached in ``.venv-flask-suite/``, git-ignored) and
   extracts its ``tests/``, ``pyproject.toml`` and ``uv.lock``.
2. Makes a side venv, ``.venv-flask-suite/venv``, with the same Flask,
   Werkzeug and other runtime packages as this venv, and the pytest version of
   that Flask release's lock file: Flask's ``tests/conftest.py`` uses
   ``_pytest.monkeypatch.notset``, which newer pytest releases removed, and
   the project's own venv keeps its own pytest.  Rebuilt only when a pin
   changes.
3. Runs ``pytest -k "session or flash"`` over the six test files, unchanged,
   with Flask's own pytest configuration and ``-p tests.flask_suite.plugin``,
   which puts flask-sessionstore into every app (see its docstring).

Any failure to obtain the sdist or build the venv is an error, never a skip.
Extra arguments are passed to pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker

try:
    import tomllib
except ImportError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".venv-flask-suite"
VENV = HOME / "venv"
FILES = (
    "test_basic.py",
    "test_testing.py",
    "test_reqctx.py",
    "test_signals.py",
    "test_templating.py",
    "test_helpers.py",
)
KEYWORDS = "session or flash"
#: Taken at the versions installed in the project's venv.
RUNTIME = ("flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker")


def run(*command: str | Path) -> None:
    subprocess.run([str(part) for part in command], check=True)


def fetch_flask_source(version: str) -> Path:
    """The extracted Flask sdist (tests, pyproject.toml, uv.lock), downloaded once."""
    source = HOME / f"flask-{version}"
    if (source / "uv.lock").is_file():
        return source
    downloads = HOME / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    run(
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", ":all:", f"flask=={version}", "--dest", downloads,
    )  # fmt: skip
    archives = [p for p in downloads.iterdir() if p.name.lower() == f"flask-{version}.tar.gz"]
    if not archives:
        raise SystemExit(f"flask-suite: pip did not produce the Flask {version} sdist")
    prefix = f"{archives[0].name[: -len('.tar.gz')]}/"
    wanted = ("tests/", "pyproject.toml", "uv.lock")
    with tempfile.TemporaryDirectory(dir=HOME) as tmp, tarfile.open(archives[0]) as archive:
        members = [
            m
            for m in archive.getmembers()
            if m.name.startswith(prefix) and m.name[len(prefix) :].startswith(wanted)
        ]
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp, members=members, filter="data")
        else:  # pragma: no cover - Pythons without extraction filters
            archive.extractall(tmp, members=members)
        extracted = Path(tmp) / prefix
        if not (extracted / "tests" / "conftest.py").is_file():
            raise SystemExit(f"flask-suite: {archives[0].name} has no tests/conftest.py")
        shutil.rmtree(source, ignore_errors=True)
        extracted.rename(source)
    return source


def locked_version(lock: Path, name: str) -> str:
    """The version of ``name`` that ``uv.lock`` resolves for this interpreter."""
    packages = tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
    for package in packages:
        if package["name"] != name:
            continue
        markers = package.get("resolution-markers")
        if not markers or any(Marker(marker).evaluate() for marker in markers):
            return str(package["version"])
    raise SystemExit(f"flask-suite: {lock} locks no {name} for this Python")


def side_venv(pins: list[str]) -> Path:
    """The side venv's python, (re)built when the pins change."""
    python = VENV / "bin" / "python"
    stamp = VENV / "pins.txt"
    wanted = "\n".join(pins) + "\n"
    if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    run(sys.executable, "-m", "venv", VENV)
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins)
    stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    flask_version = metadata.version("flask")
    source = fetch_flask_source(flask_version)
    pins = [f"{name}=={metadata.version(name)}" for name in RUNTIME]
    pins.append(f"pytest=={locked_version(source / 'uv.lock', 'pytest')}")
    python = side_venv(pins)
    print(f"flask-suite: Flask {flask_version} tests, side venv: {' '.join(pins)}", flush=True)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [
        str(python), "-m", "pytest", "-c", str(source / "pyproject.toml"),
        "--rootdir", str(source), "-p", "no:cacheprovider",
        "-p", "tests.flask_suite.plugin", "-k", KEYWORDS, "-ra",
        *(str(source / "tests" / name) for name in FILES), *argv,
    ]  # fmt: skip
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
