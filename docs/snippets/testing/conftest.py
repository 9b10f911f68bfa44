import warnings

import pytest

with warnings.catch_warnings():
    # app.py builds its app at import, outside debug and testing mode, so
    # SessionStore warns that a MemoryStore is for development: true, and
    # exactly what the tests want.
    warnings.simplefilter("ignore", RuntimeWarning)
    from app import app as quickstart_app


@pytest.fixture
def app():
    quickstart_app.config["TESTING"] = True
    return quickstart_app


@pytest.fixture
def client(app):
    return app.test_client()
