"""Flask extensions, created unbound here and bound to the app in `create_app`."""

import click
from flask import has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """WAL and a busy timeout for SQLite; let SQLAlchemy emit BEGIN itself (see below)."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def begin_write(session) -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE). Call it first."""
    session.connection(execution_options={WRITE_OPTION: True})


def restart_as_writer(session) -> None:
    """End the current transaction (reads only: nothing is pending) and begin a writing one."""
    session.commit()
    begin_write(session)


WRITE_OPTION = "quartier_write"


def _may_write() -> bool:
    if has_request_context():
        return request.method not in SAFE_METHODS
    return click.get_current_context(silent=True) is not None  # a CLI command


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    """Take SQLite's write lock at BEGIN for transactions that will write.

    A deferred transaction that reads and then writes fails at once with
    "database is locked" when another process wrote in between; waiting on the
    lock up front lets the busy timeout do its job. Requests with an unsafe
    method, CLI commands and code that called `begin_write` begin IMMEDIATE;
    everything else only reads and stays deferred, so it never blocks writers.
    """
    if conn.dialect.name != "sqlite":
        return
    writer = _may_write() or conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
