"""Browser tests: the real app served on 127.0.0.1 and Debian's Chromium driven by Playwright.

Chromium comes from the system (CHROMIUM_PATH, default /usr/bin/chromium); Playwright's own
browsers are never downloaded. Without Chromium the tests are skipped with a notice, except
in CI, where a missing browser is a failure.

One live server serves the whole session, on the migrated test database, with CSRF on and
BASE_URL set to its own address (so the card's QR points at it). Each test also takes the
suite's `app` fixture: it provides the factories (`make`) and empties the tables afterwards.
"""

import shutil

import pytest

from tests.conftest import IN_CI, make_config
from tests.e2e.support import CHROMIUM, FLAGS, PHONE, LiveServer, camera_flags
from webapp import create_app
from webapp.extensions import db


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which(CHROMIUM)
    if path is None:
        message = f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)"
        if IN_CI:
            pytest.fail(message)
        print(f"\nNOTICE: {message}: browser tests skipped")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    # Keeps what pytest-playwright took from the command line (--headed, --slowmo...).
    return {**browser_type_launch_args, "executable_path": chromium_path, "args": FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, **PHONE}


@pytest.fixture(scope="session")
def live_server(migrated, tmp_path_factory):
    app = create_app(make_config(migrated, tmp_path_factory.mktemp("live"), WTF_CSRF_ENABLED=True))
    with LiveServer(app) as server:
        app.config["BASE_URL"] = server.url  # known once the port is bound; set before any request
        yield server
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright's base URL: `page.goto("/card")` goes to the live server."""
    return live_server.url


@pytest.fixture
def live(app, live_server):
    """The live server, for a test whose data are removed afterwards (by the `app` fixture)."""
    return live_server


@pytest.fixture
def camera_phone(browser_type, browser_type_launch_args, live_server):
    """`camera_phone(y4m)`: a page in another Chromium whose fake camera films that video.

    The video is set per browser process, hence one launch per call (about half a second).
    """
    browsers = []

    def open_page(y4m):
        args = [*browser_type_launch_args["args"], *camera_flags(y4m)]
        browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
        browsers.append(browser)
        return browser.new_context(**PHONE, base_url=live_server.url).new_page()

    yield open_page
    for browser in browsers:
        browser.close()
