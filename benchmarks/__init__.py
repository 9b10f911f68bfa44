"""Peer benchmarks for flask-sessionstore (issue 5); run with ``make bench``.

A child process started with ``BENCH_CODE=<folder>`` imports flask_sessionstore
from that folder (the v1 code, see :mod:`benchmarks.codebase`): it goes first
on ``sys.path`` here, before any benchmark module imports the package.
"""

import os
import sys

_code = os.environ.get("BENCH_CODE")
if _code and sys.path[:1] != [_code]:
    sys.path.insert(0, _code)
