"""Background jobs (huey). Each task is a thin wrapper around domain functions.

The queue lives in Redis when REDIS_URL is set, else in a SQLite file in the
instance folder (or HUEY_SQLITE_FILE). Run the worker with `huey_consumer webapp.tasks.huey`.
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
    queue_file = os.environ.get("HUEY_SQLITE_FILE")
    if not queue_file:
        instance = Path(__file__).resolve().parent.parent / "instance"
        instance.mkdir(exist_ok=True)
        queue_file = str(instance / "huey.sqlite")
    return SqliteHuey("quartier", filename=queue_file, immediate=_immediate())


huey = _make_huey()
RETRY_DELAY_S = 60  # a campaign batch that met an SMTP failure is tried again a minute later


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


def run_rfm_refresh(request_id: int) -> int:
    """Run a queued refresh request; returns how many snapshots it stored (0 if it was no longer queued)."""
    from webapp.extensions import db, restart_as_writer

    def job() -> int:
        session = db.session
        restart_as_writer(session)
        started = rfm_refresh.start(session, request_id, now=_now())
        session.commit()
        if started is None:
            return 0
        try:
            restart_as_writer(session)
            done = rfm_refresh.run(session, request_id, now=_now())
            session.commit()
            return done.snapshots
        except Exception as error:
            session.rollback()
            restart_as_writer(session)
            rfm_refresh.fail(session, request_id, f"{type(error).__name__}: {error}", now=_now())
            session.commit()
            raise

    return _in_app(job)


def request_rfm_refresh(by_id: int | None = None):
    """Queue a refresh unless one is pending; (the request, whether this call queued it). Commits."""
    from webapp.extensions import db, restart_as_writer

    def job():
        restart_as_writer(db.session)
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


def start_campaign(campaign_id: int, by_id: int | None = None) -> int:
    """Freeze a campaign's audience and queue its sending; how many messages are queued.
    Raises CampaignLocked when it was already started."""
    from webapp.domain import campaigns
    from webapp.extensions import db, restart_as_writer
    from webapp.models import Campaign
    from webapp.web import current_union

    def job() -> int:
        restart_as_writer(db.session)
        campaign = db.session.get(Campaign, campaign_id)
        timezone = current_union().timezone
        queued = campaigns.start_sending(db.session, campaign, timezone=timezone, by_id=by_id, now=_now())
        db.session.commit()
        return queued

    queued = _in_app(job)
    if queued:
        send_campaign(campaign_id)
    return queued


@huey.task()
def send_campaign(campaign_id: int) -> int:
    """One batch of a campaign's e-mails; queues the next batch until none is left."""
    from webapp.campaign_mail import send_batch

    batch = _in_app(lambda: send_batch(campaign_id))
    if not (batch.done or batch.held):
        if batch.stopped or batch.failed:
            send_campaign.schedule((campaign_id,), delay=RETRY_DELAY_S)
        else:
            send_campaign(campaign_id)
    return batch.sent


@huey.periodic_task(crontab(minute="*"))
def campaigns_heartbeat() -> None:
    """Start the scheduled campaigns whose time has come; resume those whose worker stopped."""
    from webapp.domain import campaigns
    from webapp.extensions import db

    def due_and_stalled():
        return campaigns.due_campaigns(db.session, _now()), campaigns.stalled_campaigns(db.session, _now())

    due, stalled = _in_app(due_and_stalled)
    for campaign_id in due:
        try:
            start_campaign(campaign_id)
        except campaigns.CampaignLocked:  # started meanwhile by the "send now" button
            continue
    for campaign_id in stalled:
        send_campaign(campaign_id)
