from flask_sessionstore.testing import login_as


def test_the_profile_page(client):
    # A Flask-Login app: the session says user 42 is logged in, under a
    # fresh session ID, as a real login would leave it.
    login_as(client, user_id=42)
    assert client.get("/profile").status_code == 200
