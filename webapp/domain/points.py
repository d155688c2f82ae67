"""Points: the earning rule and the balance from the append-only ledger."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import PointsEntry


def points_for(amount_cents: int, points_per_euro: int) -> int:
    """Points earned for a purchase: `points_per_euro` per whole euro spent."""
    return (amount_cents // 100) * points_per_euro


def balance(session: Session, customer_id: int) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.customer_id == customer_id)
    )
