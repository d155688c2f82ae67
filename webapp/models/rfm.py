"""Dated RFM snapshots, union-wide (shop_id NULL) or of one shop, and their scores."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class RfmSnapshot(db.Model):
    __tablename__ = "rfm_snapshot"
    __table_args__ = (Index("ix_rfm_snapshot_scope", "shop_id", "as_of", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    window_start: Mapped[date | None] = mapped_column(Date)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"))
    people: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class RfmScore(db.Model):
    __tablename__ = "rfm_score"
    __table_args__ = (
        Index("ix_rfm_score_snapshot_segment", "snapshot_id", "segment"),
        {"sqlite_with_rowid": False},  # clustered on (snapshot, customer): one b-tree less to fill
    )

    # No foreign keys on purpose: scores are derived data written 100,000 rows at a time, and
    # PostgreSQL's per-row FK triggers would double the refresh time. Snapshots are deleted
    # together with their scores (domain/rfm.py) and customers are never deleted (erasure blanks them).
    snapshot_id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(primary_key=True)
    recency_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    monetary_cents: Mapped[int] = mapped_column(BigInteger)
    r: Mapped[int] = mapped_column(SmallInteger)
    f: Mapped[int] = mapped_column(SmallInteger)
    m: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(24))
