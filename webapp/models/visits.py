"""Visits credited at the counter, through the API or imported. Never deleted."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class Visit(db.Model):
    __tablename__ = "visit"
    __table_args__ = (
        Index("ix_visit_card_shop_time", "card_id", "shop_id", "visited_at"),
        Index("ix_visit_shop_time", "shop_id", "visited_at"),
        # Covering, partial indexes for RFM: only valid visits, with the amount (see domain/rfm.py).
        Index(
            "ix_visit_rfm_union",
            "customer_id",
            "visited_at",
            "amount_cents",
            postgresql_where=text("voided_at IS NULL"),
            sqlite_where=text("voided_at IS NULL"),
        ),
        Index(
            "ix_visit_rfm_shop",
            "shop_id",
            "customer_id",
            "visited_at",
            "amount_cents",
            postgresql_where=text("voided_at IS NULL"),
            sqlite_where=text("voided_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(10), default="counter")
    credited_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
