"""Imported files (customers or visits), their report, and the review queue of probable matches."""

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class CustomerReference(db.Model):
    """A person's identifier in a shop's own file (or a union-level file when shop_id is NULL)."""

    __tablename__ = "customer_reference"
    __table_args__ = (UniqueConstraint("shop_id", "reference", name="uq_customer_reference_shop_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"))
    reference: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportBatch(db.Model):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # customers | visits
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"))
    filename: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    to_review: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict | None] = mapped_column(JSON)


class ReviewItem(db.Model):
    """A probable match (same name and postcode, fuzzy) that a person must confirm or refuse."""

    __tablename__ = "review_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
