"""The quickstart page, followed verbatim by a newcomer with an empty folder.

The test builds the package's wheel, makes a fresh virtual environment that
holds nothing else, and then reads ``quickstart.rst`` (as Sphinx built it)
from top to bottom:

* code blocks captioned ``app.py`` are pasted, in order, into ``app.py``;
  the one captioned ``templates/index.html`` becomes that file; the block
  captioned ``app.py (top, with MongoDB)`` replaces everything above
  ``# Log in:``;
* every ``$ command`` of a console block is run: ``pip install`` into the
  fresh environment, ``flask --app app run`` as a real server on a free
  127.0.0.1 port (stopped by PID) driven with real HTTP requests, ``export``
  into the environment of later commands, ``flask --app app sessions ...``
  compared with the output the page shows.

A command the page shows but this test does not know fails the test, so the
page cannot grow an untested step.  The only liberties taken: ``pip`` gets
``--no-index --find-links`` pointing at the built wheel and a wheelhouse (so
it works offline once the wheelhouse exists), ``flask run`` gets ``--port``,
and the ``MONGODB_URI`` the page exports is replaced by the URI of the
SecantusDB server the test suite starts.

Every other ``pip install`` line in the docs is resolved with ``--dry-run``
against the same wheelhouse, so a misspelt extra fails here.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

import pymongo
import pytest

from tests.docs_build import ROOT, BuiltDocs, all_code_blocks, built_docs, code_blocks
from tests.mongo_server import free_port, secantus_uri
from tests.processes import die_with_parent

__all__ = ["built_docs", "secantus_uri"]  # the fixtures, imported for pytest

CLIENT_SCRIPT = Path(__file__).with_name("quickstart_client.py")
DISTRIBUTION = "flask-express-session"

# Where the wheels for the fresh environments are kept between runs: inside
# the project venv, so `make clean` removes them and a second run is offline.
WHEELHOUSE = Path(sys.prefix) / "docs-wheelhouse"
# What the docs' `pip install` lines may pull in, pinned to the project venv's
# versions where it has them; setuptools and wheel build the package's wheel.
WHEELHOUSE_PACKAGES = [
    "flask",
    "werkzeug",
    "jinja2",
    "itsdangerous",
    "click",
    "blinker",
    "markupsafe",
    "pymongo",
    "dnspython",
    "cryptography",
    "pytest",
    "freezegun",
    "gunicorn",
    "gevent",
    "redis",
]
BUILD_REQUIREMENTS = ["setuptools>=77", "wheel"]


def pinned(name: str) -> str:
    try:
        return f"{name}=={importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return name


def run(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, (
        f"{shlex.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """Wheels for everything the docs install; downloaded once, then reused offline."""
    WHEELHOUSE.mkdir(exist_ok=True)
    requirements = [pinned(name) for name in WHEELHOUSE_PACKAGES] + BUILD_REQUIREMENTS
    pip = [sys.executable, "-m", "pip", "download", "-q", "-d", str(WHEELHOUSE)]
    offline = subprocess.run(
        [*pip, "--no-index", "--find-links", str(WHEELHOUSE), *requirements],
        capture_output=True,
        text=True,
        check=False,
    )
    if offline.returncode != 0:  # the first run, or the pins changed: ask the index
        run([*pip, *requirements])
    return WHEELHOUSE


@pytest.fixture(scope="session")
def wheel(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's wheel, built as a user's pip would build it (isolated, offline)."""
    out = tmp_path_factory.mktemp("wheel")
    result = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "-w",
            str(out),
            str(ROOT),
        ]
    )
    # setuptools >= 77 warns about License :: classifiers; the metadata uses SPDX.
    assert "License classifiers are deprecated" not in result.stdout + result.stderr
    assert len(list(out.glob("flask_express_session-*.whl"))) == 1
    return out


@dataclass
class Reader:
    """The newcomer: a folder, a fresh virtual environment, an environment."""

    folder: Path
    venv: Path
    find_links: list[Path]
    mongodb_uri: str
    env: dict[str, str] = field(default_factory=dict)
    app_py: str = ""
    memory_app_py: str = ""
    server: subprocess.Popen[bytes] | None = None
    cookies: CookieJar = field(default_factory=CookieJar)
    base_url: str = ""
    session_id: str = ""
    served: list[str] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def pip(self, args: list[str], *, dry_run: bool = False) -> None:
        assert args[:1] == ["install"], f"only `pip install` is known here: {args}"
        links = [arg for path in self.find_links for arg in ("--find-links", str(path))]
        extra = ["--dry-run"] if dry_run else []
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.bin / "python"),
                "install",
                "-q",
                "--no-index",
                *links,
                *extra,
                *args[1:],
            ],
            cwd=self.folder,
        )

    def paste(self, block_caption: str, text: str) -> None:
        if block_caption == "templates/index.html":
            (self.folder / "templates").mkdir(exist_ok=True)
            (self.folder / "templates" / "index.html").write_text(text + "\n")
            return
        if block_caption == "app.py (top, with MongoDB)":
            marker = "# Log in:"
            assert marker in self.app_py, "the MongoDB top replaces the lines above the login view"
            rest = marker + self.app_py.split(marker, 1)[1]
            self.app_py = text.strip("\n") + "\n\n\n" + rest
        else:
            # Pasted below what is there, two blank lines apart (PEP 8).
            assert block_caption.startswith("app.py"), block_caption
            above = self.app_py.rstrip("\n") + "\n\n\n" if self.app_py else ""
            self.app_py = above + text.strip("\n") + "\n"
        (self.folder / "app.py").write_text(self.app_py)

    # -- the real server -------------------------------------------------
    def start_flask(self, args: list[str]) -> None:
        assert self.server is None
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.server = subprocess.Popen(
            [str(self.bin / "flask"), *args, "--port", str(port)],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: the reloader child too
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.server.poll() is not None:
                stderr = self.server.stderr.read().decode() if self.server.stderr else ""
                self.server = None
                raise AssertionError(f"flask run exited:\n{stderr}")
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop_flask()
                    raise AssertionError("flask run did not answer within 30 s") from None
                time.sleep(0.1)

    def stop_flask(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the group we started, by its PID
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        if server.stderr:
            server.stderr.close()

    def http(self, path: str, form: dict[str, str] | None = None) -> str:
        """A request with the reader's cookies; redirects are followed."""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with opener.open(self.base_url + path, data=data, timeout=10) as response:
            return str(response.read().decode("utf-8"))

    # -- the commands --------------------------------------------------------
    def command(self, line: str, expected_output: list[str]) -> None:
        self.served.append(line)
        words = shlex.split(line)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            if name == "MONGODB_URI":
                database = urllib.parse.urlsplit(value).path.strip("/")
                value = self.mongodb_uri + database
                pymongo.MongoClient(self.mongodb_uri).drop_database(database)
            self.env[name] = value
        elif words[0] == "pip":
            self.pip(words[1:])
        elif words[:3] == ["flask", "--app", "app"] and words[3] == "run":
            self.follow_run(words[1:])
        elif words[:4] == ["flask", "--app", "app", "sessions"]:
            self.follow_sessions(words[1:], expected_output)
        else:
            raise AssertionError(f"the quickstart shows a command this test does not run: {line}")

    def follow_run(self, args: list[str]) -> None:
        """Step 7 (MemoryStore) or step 8 (MongoDB): run the app, use it, restart it."""
        if "MONGODB_URI" not in self.env:
            self.memory_app_py = self.app_py
            # The test client first, in the fresh environment: the page's app as pasted.
            result = run([str(self.bin / "python"), str(CLIENT_SCRIPT)], cwd=self.folder)
            assert "quickstart client: ok" in result.stdout
        self.start_flask(args)
        try:
            assert "<h1>Log in</h1>" in self.http("/")
            page = self.http("/login", {"username": "alice"})
            assert "<h1>Hello, alice</h1>" in page
            assert "Welcome, alice!" in page
            for _ in range(3):
                page = self.http("/count", {})
            assert "Counter: 3" in page
            self.stop_flask()
            self.start_flask(args)  # the page says what a restart does
            page = self.http("/")
            if "MONGODB_URI" in self.env:
                assert "<h1>Hello, alice</h1>" in page, "MongoDB sessions survive a restart"
            else:
                assert "<h1>Log in</h1>" in page, "MemoryStore sessions end with the process"
                page = self.http("/login", {"username": "bob"})
                page = self.http("/logout", {})
                assert "Goodbye, bob." in page
                assert "<h1>Log in</h1>" in page
        finally:
            if "MONGODB_URI" not in self.env:
                self.stop_flask()
        # With MongoDB the server keeps running for step 9.

    def follow_sessions(self, args: list[str], expected: list[str]) -> None:
        """Step 9: the CLI in another process, against the running app's store."""
        assert self.server is not None, "step 9 runs while the MongoDB app is running"
        sub = args[3]
        if sub == "list":
            out = run([str(self.bin / "flask"), *args], cwd=self.folder, env=self.env).stdout
            header, shown = expected
            top, line = out.splitlines()
            assert top == header
            self.session_id = line.split()[0]
            assert re.fullmatch(r"[A-Za-z0-9_-]{32}", self.session_id), line
            shape = TIMESTAMP.sub("<TIME>", line.replace(self.session_id, "<ID>"))
            page = TIMESTAMP.sub("<TIME>", shown.replace(shown.split()[0], "<ID>"))
            assert shape == page, f"{line!r} vs {shown!r}"
        elif sub in ("show", "destroy"):
            assert self.session_id, "list comes first and gives the ID"
            real = [*args[:4], self.session_id]
            out = run([str(self.bin / "flask"), *real], cwd=self.folder, env=self.env).stdout
            if sub == "show":
                assert json.loads(out) == json.loads("\n".join(expected))
            else:
                assert out.splitlines() == [
                    line.replace(args[4], self.session_id) for line in expected
                ]
                assert "<h1>Log in</h1>" in self.http("/"), "destroyed: logged out"
                self.stop_flask()
        else:
            raise AssertionError(f"unknown sessions command {args}")


#: A UTC time as ``flask sessions list`` prints it (it differs on every run).
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")


def console_commands(text: str) -> Iterator[tuple[str, list[str]]]:
    """``($ command, output lines)`` pairs of a console block."""
    command: str | None = None
    output: list[str] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, output
            command, output = line[2:], []
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, output


@pytest.fixture
def reader(tmp_path: Path, wheel: Path, wheelhouse: Path, secantus_uri: str) -> Iterator[Reader]:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    folder = tmp_path / "quickstart"
    folder.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "SESSION_", "PYTHON", "VIRTUAL_ENV"))
        and key not in ("MONGODB_URI", "SECRET_KEY")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    reader = Reader(folder, venv, [wheel, wheelhouse], secantus_uri, env)
    try:
        yield reader
    finally:
        reader.stop_flask()


def test_the_quickstart_works_verbatim(built_docs: BuiltDocs, reader: Reader) -> None:
    for block in code_blocks(built_docs, "quickstart"):
        if block.language == "console":
            for line, output in console_commands(block.text):
                reader.command(line, output)
        elif block.caption is not None and (
            block.caption.startswith("app.py") or block.caption == "templates/index.html"
        ):
            if block.caption == "app.py" and reader.app_py:
                # "The whole app" at the end: what steps 2 to 6 built, nothing more.
                assert block.text.strip("\n") + "\n" == reader.memory_app_py
                continue
            if block.caption == "app.py (top, with MongoDB)":
                # "the highlighted lines changed": exactly those.
                before = reader.app_py.split("# Log in:")[0].splitlines()
                after = block.text.splitlines()
                changed = [n for n, line in enumerate(after, 1) if line not in before]
                assert list(block.highlighted) == changed
            reader.paste(block.caption, block.text)
    assert reader.served == [
        "pip install flask-express-session",
        "flask --app app run --debug",
        'pip install "flask-express-session[mongo]"',
        "export MONGODB_URI=mongodb://localhost:27017/quickstart",
        "flask --app app run --debug",
        "flask --app app sessions list",
        "flask --app app sessions show JHFDnbRErV-vLKCU2C3MvGruJ_LjpT6O",
        "flask --app app sessions destroy JHFDnbRErV-vLKCU2C3MvGruJ_LjpT6O",
    ]


def test_every_pip_install_in_the_docs_resolves(built_docs: BuiltDocs, reader: Reader) -> None:
    lines = {
        line
        for block in all_code_blocks(built_docs)
        if block.language == "console"
        for line, _ in console_commands(block.text)
        if line.startswith("pip install")
    }
    assert 'pip install "flask-express-session[mongo]"' in lines
    for line in sorted(lines):
        reader.pip(shlex.split(line)[1:], dry_run=True)
