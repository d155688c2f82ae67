"""Dated RFM snapshots, union-wide (shop_id NULL) or of one shop, their scores, the cross-shop
pair counts stored with union-wide snapshots, and the refresh requests handed to the worker."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, false
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
    # Whether the cross-shop pair counts (rfm_cross_shop) were stored with this snapshot.
    cross_shop: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


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


class RfmCrossShop(db.Model):
    """Cross-shop prescription of a union-wide snapshot: for each analysis window (`months` before
    the as-of date, 0 for all history) and each pair of shops (A, B), how many customers of A
    (a non-void visit at A in the window) also visited B in the window. The pair (A, A) holds the
    number of customers of A. Pairs without a shared customer are not stored."""

    __tablename__ = "rfm_cross_shop"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # Derived data deleted with its snapshot (domain/rfm.py): no foreign keys, as for rfm_score.
    snapshot_id: Mapped[int] = mapped_column(primary_key=True)
    months: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    from_shop_id: Mapped[int] = mapped_column(primary_key=True)
    to_shop_id: Mapped[int] = mapped_column(primary_key=True)
    people: Mapped[int] = mapped_column(Integer)


class RfmRefresh(db.Model):
    """A refresh of the RFM snapshots asked for (dashboard button, nightly job) and run by the worker.

    `pending_scope` is set while the request is queued or running and cleared when it ends: its
    unique index lets at most one request per scope wait or run at a time, across processes.
    """

    __tablename__ = "rfm_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))  # "union": the whole union and every active shop
    pending_scope: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # queued | running | done | failed | abandoned
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    as_of: Mapped[date | None] = mapped_column(Date)
    snapshots: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
