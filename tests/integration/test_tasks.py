"""Background jobs: the nightly RFM refresh is a thin wrapper around the domain function."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from webapp import tasks
from webapp.extensions import db
from webapp.models import RfmSnapshot


def test_refresh_task_stores_union_and_shop_snapshots(app, make, monkeypatch):
    monkeypatch.setattr(tasks, "_app", lambda: app)
    monkeypatch.setattr(tasks.huey, "immediate", True)
    shops = [make.shop(), make.shop()]
    card = make.card()
    make.visit(card, shops[0], 1500, datetime.now(UTC))
    db.session.rollback()  # end the test's read transaction: the task writes from its own session
    assert tasks.refresh_rfm()() == 3
    assert db.session.scalar(select(func.count(RfmSnapshot.id))) == 3
    union_wide = db.session.scalar(select(RfmSnapshot).where(RfmSnapshot.shop_id.is_(None)))
    assert union_wide.people == 1


def test_nightly_task_is_scheduled():
    periodic = [task.__name__ for task in tasks.huey._registry._periodic_tasks]
    assert "nightly_rfm_refresh" in periodic
