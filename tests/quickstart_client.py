"""Drive the quickstart app through Flask's test client: log in, count, log out.

Runs in two places: imported by the snippet tests (project venv), and as a
script in the fresh virtual environment the quickstart test builds, where
only the installed wheel and its dependencies exist.  So: Flask and the
standard library only, no pytest.

    python quickstart_client.py      # in the folder holding app.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def drive(app: Flask) -> None:
    """Everything the quickstart page promises, through the test client."""
    client = app.test_client()

    page = client.get("/")
    check(page.status_code == 200, f"GET / answered {page.status_code}")
    check("<h1>Log in</h1>" in page.text, "an anonymous visitor sees the login form")
    check("Set-Cookie" not in page.headers, "an anonymous visit sets no cookie")

    page = client.post("/login", data={"username": " "}, follow_redirects=True)
    check("Please enter a name." in page.text, "an empty name is refused with a flash")

    response = client.post("/login", data={"username": "alice"})
    check(response.status_code == 302, f"login answered {response.status_code}")
    check(response.headers["Location"] == "/", "login redirects to /")
    set_cookie = response.headers["Set-Cookie"]
    check(set_cookie.startswith("session=s%3A"), f"a signed session-ID cookie: {set_cookie}")
    check("HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie, set_cookie)

    page = client.get("/")
    check("<h1>Hello, alice</h1>" in page.text, "logged in after the redirect")
    check("Welcome, alice!" in page.text, "the welcome flash shows once...")
    check("Counter: 0" in page.text, page.text)
    check("Welcome, alice!" not in client.get("/").text, "...and only once")

    for _ in range(3):
        client.post("/count")
    check("Counter: 3" in client.get("/").text, "the counter counts")

    page = client.post("/logout", follow_redirects=True)
    check("Goodbye, alice." in page.text, "the goodbye flash")
    check("<h1>Log in</h1>" in page.text, "logged out")

    page = client.post("/count", follow_redirects=True)
    check("Log in first." in page.text, "counting needs a login")


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path.cwd()))
    import app as module  # the quickstart's app.py, in the current folder

    flask_app: Any = module.app
    drive(flask_app)
    print("quickstart client: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
