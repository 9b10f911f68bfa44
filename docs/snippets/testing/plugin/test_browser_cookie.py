from flask_sessionstore.testing import make_session_cookie


def test_the_counter_in_a_browser(app, page, live_server_url):
    # Store a session and get its signed cookie value, without a login.
    with app.app_context():
        value = make_session_cookie(
            {"user": "alice", "count": 3}, secret=app.config["SECRET_KEY"]
        )
    page.context.add_cookies(
        [{"name": "session", "value": value, "url": live_server_url}]
    )
    page.goto(live_server_url)
    assert page.locator("h1").inner_text() == "Hello, alice"
