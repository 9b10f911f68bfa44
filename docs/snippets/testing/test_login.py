def test_login_count_logout(client):
    page = client.post(
        "/login", data={"username": "alice"}, follow_redirects=True
    )
    assert "Hello, alice" in page.text
    assert "Welcome, alice!" in page.text

    client.post("/count")
    assert "Counter: 1" in client.get("/").text

    page = client.post("/logout", follow_redirects=True)
    assert "Goodbye, alice." in page.text
    assert "Log in" in page.text


def test_the_cookie_holds_only_a_signed_id(client):
    client.post("/login", data={"username": "alice"})
    cookie = client.get_cookie("session")
    assert cookie.value.startswith("s%3A")  # "s:" + ID + "." + signature
    assert "alice" not in cookie.value
    assert cookie.http_only
