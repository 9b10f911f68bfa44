def test_a_logged_in_user_sees_the_counter(client):
    # Write the session directly, as if alice had logged in before.
    with client.session_transaction() as session:
        session["user"] = "alice"
        session["count"] = 41

    client.post("/count")

    assert "Counter: 42" in client.get("/").text
    with client.session_transaction() as session:  # read it back
        assert session["count"] == 42


def test_logout_destroys_the_session(client):
    with client.session_transaction() as session:
        session["user"] = "alice"
    client.post("/logout")
    with client.session_transaction() as session:
        assert "user" not in session
