"""Shared fixtures: a migrated real database (SQLite or PostgreSQL), app, client, factories.

The suite runs against `TEST_DATABASE_URL` (default: a temporary SQLite file).
The schema is built once per run by the Alembic migrations; every test then
commits for real and the tables are emptied afterwards, so unique violations,
rollbacks and concurrent connections behave exactly as in production.
"""

import email
import email.policy
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests import factories
from webapp import create_app
from webapp.extensions import db

IN_CI = bool(os.environ.get("CI"))
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def postgres_answers(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means "no server here"
        return False
    finally:
        engine.dispose()


def make_config(database_url: str, instance: Path, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-with-enough-length-0123456789",
        "CARD_SIGNING_KEY": "test-card-signing-key-0123456789abcdef",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://localhost",
        "OUTBOX_DIR": str(instance / "outbox"),
        "SMTP_URL": "",
    }
    config.update(overrides)
    return config


def migrate_empty_database(url: str, instance: Path) -> str:
    """Build the schema of an empty database with the real Alembic migrations."""
    from flask_migrate import upgrade

    if url.startswith("postgresql"):
        _reset_postgres(url)
    app = create_app(make_config(url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated(tmp_path_factory):
    """The test database (TEST_DATABASE_URL or a temporary SQLite file), migrated once."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return migrate_empty_database(url, tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def migrated_postgres(migrated, tmp_path_factory):
    """A migrated PostgreSQL database for tests that need true concurrency.

    The test database itself when it is PostgreSQL; otherwise TEST_POSTGRES_URL
    (default: the local server). Without a server the tests are skipped with a
    notice, except in CI, where a missing server is a failure.
    """
    if migrated.startswith("postgresql"):
        return migrated
    url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    if not postgres_answers(url):
        if IN_CI:
            pytest.fail(f"PostgreSQL does not answer at {url.split('@')[-1]}")
        print(f"\nNOTICE: no PostgreSQL at {url.split('@')[-1]}: concurrency tests skipped")
        pytest.skip("needs a PostgreSQL server (TEST_POSTGRES_URL)")
    return migrate_empty_database(url, tmp_path_factory.mktemp("pg-instance"))


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our own table names


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Without this, requests reuse the test's app context: they would share its
    `g` (Flask-Login's cached user) and its database session, hiding bugs.
    The test's own transaction is ended first so it holds no lock.
    """

    def open(self, *args, **kwargs):
        db.session.rollback()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _app_fixture(database_url: str, tmp_path: Path, overrides: dict):
    app = create_app(make_config(database_url, tmp_path, **overrides))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
    _empty_tables(app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_config():
    """Override in a module (or parametrize) to change the app's configuration."""
    return {}


@pytest.fixture
def app(migrated, tmp_path, app_config):
    yield from _app_fixture(migrated, tmp_path, app_config)


@pytest.fixture
def pg_app(migrated_postgres, tmp_path, app_config):
    """An app on PostgreSQL, for tests of true concurrency."""
    yield from _app_fixture(migrated_postgres, tmp_path, app_config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def now():
    return datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def make(app):
    """Factories bound to the app's session: make.shop(), make.shopper(), make.staff()..."""
    return factories.Factories(db.session)


@pytest.fixture
def login(client):
    def sign_in(account, password=factories.PASSWORD, on=None):
        target = on or client
        response = target.post("/auth/login", data={"email": account.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return sign_in


def new_key() -> str:
    return str(uuid.uuid4())


def outbox_messages(app):
    """Messages written to the outbox folder (mail without SMTP_URL)."""
    folder = Path(app.config["OUTBOX_DIR"])
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    ]


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL") or "temporary SQLite file"
    return [f"test database: {url.split('@')[-1]}"]
