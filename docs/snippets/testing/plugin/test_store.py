from datetime import timedelta


def test_each_test_starts_with_an_empty_store(client, session_store):
    assert session_store.length() == 0
    client.post("/login", data={"username": "alice"})
    assert session_store.length() == 1


def test_an_unused_session_ends(client, session_store, session_clock):
    client.post("/login", data={"username": "alice"})
    session_clock.advance(timedelta(days=15))  # past MemoryStore's 14 days
    assert "Log in" in client.get("/").text
    assert session_store.length() == 0
