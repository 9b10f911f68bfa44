"""Flask's own session, flash and request-context tests, run against flask-sessionstore."""
