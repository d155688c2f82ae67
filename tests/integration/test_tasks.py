"""Background jobs: the RFM refresh requested from the dashboard or by the nightly schedule, run by the worker."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp import tasks
from webapp.domain import rfm_refresh
from webapp.extensions import db
from webapp.models import RfmRefresh, RfmSnapshot

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def immediate(app, monkeypatch):
    """Tasks run in the calling process, in the test's app (as in development)."""
    monkeypatch.setattr(tasks.huey, "immediate", True)
    app.config["FROZEN_NOW"] = NOW
    yield
    app.config.pop("FROZEN_NOW", None)


def test_a_requested_refresh_stores_union_and_shop_snapshots(app, make, immediate):
    shops = [make.shop(), make.shop()]
    make.visit(make.card(), shops[0], 1500, NOW - timedelta(days=3))
    db.session.commit()
    request_id, created = tasks.request_rfm_refresh(by_id=None)
    assert created
    request = db.session.get(RfmRefresh, request_id)
    assert (request.status, request.snapshots, request.pending_scope) == ("done", 3, None)
    assert request.as_of == NOW.date() and request.started_at == request.finished_at == NOW
    assert db.session.scalar(select(func.count(RfmSnapshot.id))) == 3
    union_wide = db.session.scalar(select(RfmSnapshot).where(RfmSnapshot.shop_id.is_(None)))
    assert union_wide.people == 1 and union_wide.cross_shop


def test_a_pending_request_is_not_queued_twice(make):
    first, created = rfm_refresh.request_refresh(db.session, now=NOW)
    again, created_again = rfm_refresh.request_refresh(db.session, now=NOW + timedelta(minutes=5))
    assert created and not created_again and again.id == first.id
    db.session.commit()
    assert db.session.scalar(select(func.count(RfmRefresh.id))) == 1


def test_a_request_lost_with_its_worker_is_abandoned_after_a_while(make):
    lost, _ = rfm_refresh.request_refresh(db.session, now=NOW)
    assert rfm_refresh.start(db.session, lost.id, now=NOW) is not None
    still, created = rfm_refresh.request_refresh(db.session, now=NOW + rfm_refresh.STALE_AFTER - timedelta(minutes=1))
    assert not created and still.id == lost.id
    fresh, created = rfm_refresh.request_refresh(db.session, now=NOW + rfm_refresh.STALE_AFTER + timedelta(minutes=1))
    assert created and fresh.id != lost.id
    db.session.refresh(lost)
    assert (lost.status, lost.pending_scope) == ("abandoned", None)
    assert rfm_refresh.start(db.session, lost.id, now=NOW) is None  # a late worker does not run it


def test_a_failed_computation_closes_its_request(app, make, immediate, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full\n[parameters: ('camille@example.org',)]")

    monkeypatch.setattr(rfm_refresh.rfm, "refresh_all", broken)
    request_id, created = tasks.request_rfm_refresh()
    request = db.session.get(RfmRefresh, request_id)
    assert (request.status, request.pending_scope, request.error) == ("failed", None, "RuntimeError: disk full")
    assert rfm_refresh.request_refresh(db.session, now=NOW)[1]  # the button works again


def test_nightly_task_is_scheduled():
    periodic = [task.__name__ for task in tasks.huey._registry._periodic_tasks]
    assert "nightly_rfm_refresh" in periodic
