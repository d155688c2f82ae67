"""Saved selections of people (e.g. customers of shop A who never visited shop B) for mailings."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class SavedTarget(db.Model):
    __tablename__ = "saved_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    size: Mapped[int] = mapped_column(Integer, default=0)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedTargetMember(db.Model):
    __tablename__ = "saved_target_member"

    target_id: Mapped[int] = mapped_column(ForeignKey("saved_target.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
