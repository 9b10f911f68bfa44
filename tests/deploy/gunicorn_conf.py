"""gunicorn settings for the deployment matrix: no server outlives its test process.

:class:`~tests.deploy.launcher.Gunicorn` stops its process group when the
tests end, but a test process that is killed (SIGKILL, a CI timeout) runs no
clean-up.  So the master asks Linux to kill it when the test process dies,
and each worker to kill it when the master dies, a worker stuck on a lock
included (``prctl(PR_SET_PDEATHSIG, SIGKILL)``).
"""

from __future__ import annotations

from typing import Any

from tests.processes import die_with_parent as _die_with_parent


def on_starting(server: Any) -> None:
    """In the master, before anything else: die with the test process."""
    _die_with_parent()


def post_fork(server: Any, worker: Any) -> None:
    """In each worker: die with the master."""
    _die_with_parent()
