import warnings

import pytest

pytest_plugins = ["flask_sessionstore.testing"]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # MemoryStore: see above
    from app import app as quickstart_app


@pytest.fixture
def app():  # the plugin's fixtures use this one
    quickstart_app.config["TESTING"] = True
    return quickstart_app


@pytest.fixture
def client(app):
    return app.test_client()
