"""Refreshes of the RFM snapshots, asked for by the dashboard's button or the nightly schedule
and run by the background worker (a whole union takes tens of seconds: never in a request).

A request goes queued -> running -> done | failed. While it is queued or running its
`pending_scope` holds the scope, under a unique index: pressing the button twice, or from two
browsers, or the nightly job meeting a request, finds the pending one instead of queueing a
second computation. A request left running by a worker that died is abandoned after
STALE_AFTER, so it never blocks the button for good.

Functions flush and never commit: the worker task commits between the steps, so that the
dashboard sees "running" while the computation goes on.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.domain import branding, rfm
from webapp.models import RfmRefresh

UNION = "union"  # the only scope today: the whole union and every active shop
STALE_AFTER = timedelta(hours=2)
ERROR_LENGTH = 200


def _pending(session: Session, scope: str) -> RfmRefresh | None:
    return session.scalar(select(RfmRefresh).where(RfmRefresh.pending_scope == scope))


def abandon_stale(session: Session, now: datetime, scope: str = UNION) -> None:
    """A request pending for longer than STALE_AFTER was lost with its worker: let a new one in."""
    session.execute(
        update(RfmRefresh)
        .where(RfmRefresh.pending_scope == scope, RfmRefresh.requested_at < now - STALE_AFTER)
        .values(pending_scope=None, status="abandoned", finished_at=now)
    )


def request_refresh(session: Session, *, now: datetime, by_id: int | None = None) -> tuple[RfmRefresh, bool]:
    """(the pending request, True) when this call queued it; (the one already pending, False) otherwise."""
    abandon_stale(session, now)
    pending = _pending(session, UNION)
    if pending is not None:
        return pending, False
    request = RfmRefresh(
        scope=UNION, pending_scope=UNION, status="queued", requested_at=now, requested_by_id=by_id, snapshots=0
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:  # another process queued one in the meantime
        return _pending(session, UNION), False
    return request, True


def start(session: Session, request_id: int, *, now: datetime) -> RfmRefresh | None:
    """Mark a queued request running; None when it is no longer queued (done, abandoned, unknown)."""
    request = session.get(RfmRefresh, request_id, with_for_update=True)
    if request is None or request.status != "queued":
        return None
    request.status, request.started_at = "running", now
    session.flush()
    return request


def run(session: Session, request_id: int, *, now: datetime) -> RfmRefresh:
    """Compute today's snapshots (union and every active shop) for a running request, and close it."""
    request = session.get(RfmRefresh, request_id)
    union = branding.get_union(session)
    as_of = now.astimezone(ZoneInfo(union.timezone)).date()
    snapshots = rfm.refresh_all(
        session, as_of=as_of, timezone=union.timezone, now=now, created_by_id=request.requested_by_id
    )
    request.status, request.pending_scope, request.finished_at = "done", None, now
    request.as_of, request.snapshots = as_of, len(snapshots)
    session.flush()
    return request


def fail(session: Session, request_id: int, error: str, *, now: datetime) -> None:
    """Close a request whose computation raised, with the error's first line (no personal data in it)."""
    request = session.get(RfmRefresh, request_id)
    if request is not None:
        request.status, request.pending_scope, request.finished_at = "failed", None, now
        request.error = (error.splitlines() or [""])[0][:ERROR_LENGTH]
        session.flush()


def latest(session: Session) -> RfmRefresh | None:
    return session.scalar(select(RfmRefresh).order_by(RfmRefresh.id.desc()).limit(1))
