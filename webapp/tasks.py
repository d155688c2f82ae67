"""Background jobs (huey). Each task is a thin wrapper around domain functions.

The queue lives in Redis when REDIS_URL is set, else in a SQLite file in the
instance folder. Run the worker with `huey_consumer webapp.tasks.huey`.
In development (QUARTIER_ENV other than production) tasks run in the calling
process unless HUEY_IMMEDIATE=0, so the demo needs no worker; HUEY_IMMEDIATE=1
forces that mode anywhere.
"""

import os
from functools import cache
from pathlib import Path

from flask import has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from webapp.domain import rfm_refresh
from webapp.web import now as _now  # the app's clock, which tests may freeze


def _immediate() -> bool:
    setting = os.environ.get("HUEY_IMMEDIATE", "").strip().lower()
    if setting:
        return setting in {"1", "true", "yes", "on"}
    return os.environ.get("QUARTIER_ENV", "development").strip().lower() != "production"


def _make_huey():
    if os.environ.get("REDIS_URL"):
        return RedisHuey("quartier", url=os.environ["REDIS_URL"], immediate=_immediate())
    instance = Path(__file__).resolve().parent.parent / "instance"
    instance.mkdir(exist_ok=True)
    return SqliteHuey("quartier", filename=str(instance / "huey.sqlite"), immediate=_immediate())


huey = _make_huey()


@cache
def _app():
    from webapp import create_app

    return create_app()


def _in_app(job):
    """Run `job` in the calling application (a task run immediately by a request or a test), else the worker's."""
    if has_app_context():
        return job()
    with _app().app_context():
        return job()


def _begin_write(session) -> None:
    """End the caller's transaction (immediate mode: a request or a test), then start as a writer."""
    from webapp.extensions import begin_write

    session.commit()
    begin_write(session)


def run_rfm_refresh(request_id: int) -> int:
    """Run a queued refresh request; returns how many snapshots it stored (0 if it was no longer queued)."""
    from webapp.extensions import db

    def job() -> int:
        session = db.session
        _begin_write(session)
        started = rfm_refresh.start(session, request_id, now=_now())
        session.commit()
        if started is None:
            return 0
        try:
            _begin_write(session)
            done = rfm_refresh.run(session, request_id, now=_now())
            session.commit()
            return done.snapshots
        except Exception as error:
            session.rollback()
            _begin_write(session)
            rfm_refresh.fail(session, request_id, f"{type(error).__name__}: {error}", now=_now())
            session.commit()
            raise

    return _in_app(job)


def request_rfm_refresh(by_id: int | None = None):
    """Queue a refresh unless one is pending; (the request, whether this call queued it). Commits."""
    from webapp.extensions import db

    def job():
        _begin_write(db.session)
        request, created = rfm_refresh.request_refresh(db.session, now=_now(), by_id=by_id)
        db.session.commit()
        return request.id, created

    request_id, created = _in_app(job)
    if created:
        refresh_rfm(request_id)
    return request_id, created


@huey.task()
def refresh_rfm(request_id: int) -> int:
    return run_rfm_refresh(request_id)


@huey.periodic_task(crontab(hour="2", minute="30"))
def nightly_rfm_refresh():
    request_rfm_refresh()
