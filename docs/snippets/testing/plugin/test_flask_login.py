import pytest
from flask import Flask
from flask_login import LoginManager, UserMixin, login_required
from flask_sessionstore import SessionStore
from flask_sessionstore.testing import login_as


class User(UserMixin):
    def __init__(self, user_id):
        self.id = user_id


@pytest.fixture
def login_client():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test secret", TESTING=True)
    SessionStore(app)
    LoginManager(app).user_loader(User)

    @app.get("/profile")
    @login_required
    def profile():
        return "your profile"

    return app.test_client()


def test_the_profile_page(login_client):
    assert login_client.get("/profile").status_code == 401
    # The session now says user 42 is logged in, under a fresh session ID,
    # as a real login would leave it.
    login_as(login_client, user_id=42)
    assert login_client.get("/profile").status_code == 200
