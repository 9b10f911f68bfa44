"""Child processes that never outlive the test process.

The servers the tests start (SecantusDB, redis-server, gunicorn) are stopped
by PID when the tests end, but a test process that is killed (SIGKILL, a CI
timeout) runs no clean-up.  ``die_with_parent`` asks Linux to kill the child
when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); pass it as
``preexec_fn`` to ``subprocess.Popen``.
"""

from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child process: be killed when the parent process dies (Linux only)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
