"""Background jobs (huey). Each task is a thin wrapper around a domain function.

The queue lives in Redis when REDIS_URL is set, else in a SQLite file in the
instance folder. Run the worker with `huey_consumer webapp.tasks.huey`.
With HUEY_IMMEDIATE=1 (development, tests) tasks run in the calling process.
"""

import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from huey import RedisHuey, SqliteHuey, crontab

from webapp.domain import branding, rfm


def _make_huey():
    immediate = os.environ.get("HUEY_IMMEDIATE", "").lower() in {"1", "true", "yes"}
    if os.environ.get("REDIS_URL"):
        return RedisHuey("quartier", url=os.environ["REDIS_URL"], immediate=immediate)
    instance = Path(__file__).resolve().parent.parent / "instance"
    instance.mkdir(exist_ok=True)
    return SqliteHuey("quartier", filename=str(instance / "huey.sqlite"), immediate=immediate)


huey = _make_huey()


@cache
def _app():
    from webapp import create_app

    return create_app()


def refresh_rfm_now() -> int:
    """Refresh today's RFM snapshots (union and every shop); returns how many were stored."""
    from webapp.extensions import begin_write, db

    with _app().app_context():
        begin_write(db.session)
        union = branding.get_union(db.session)
        as_of = datetime.now(ZoneInfo(union.timezone)).date()
        snapshots = rfm.refresh_all(db.session, as_of=as_of, timezone=union.timezone, now=datetime.now(UTC))
        db.session.commit()
        return len(snapshots)


@huey.periodic_task(crontab(hour="2", minute="30"))
def nightly_rfm_refresh():
    return refresh_rfm_now()


@huey.task()
def refresh_rfm():
    return refresh_rfm_now()
