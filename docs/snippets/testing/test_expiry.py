from datetime import timedelta

from freezegun import freeze_time


def test_an_unused_session_ends_after_14_days(client):
    with freeze_time() as frozen:
        client.post("/login", data={"username": "alice"})

        frozen.tick(timedelta(days=13))
        assert "Hello, alice" in client.get("/").text  # and its expiry slides

        frozen.tick(timedelta(days=14, seconds=1))
        assert "Log in" in client.get("/").text
