"""Peer benchmarks for flask-sessionstore (issue 5); run with ``make bench``."""
