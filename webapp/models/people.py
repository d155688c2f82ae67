"""People of the shared customer file and their marketing consents."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from webapp.domain.names import refresh_folded_names
from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow

CHANNELS = ("email", "sms", "post")
# PostgreSQL compares text by the database's collation, where "de la" and "dela" sort together;
# byte order ("C") makes `>= prefix AND < successor` exactly "starts with". SQLite compares bytes.
FoldedName = String(120).with_variant(String(120, collation="C"), "postgresql")


class Customer(db.Model):
    """One row per real person, cardholder or not. Erasure blanks the identity."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(80))
    # The names folded for search (domain/names.py), byte-ordered so a prefix is an index range.
    first_name_folded: Mapped[str | None] = mapped_column(FoldedName, index=True)
    last_name_folded: Mapped[str | None] = mapped_column(FoldedName, index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    # The postal address, for letters: the street line(s) and the town (the postcode is above).
    street: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str | None] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(20), default="signup")
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    rules_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _fold_names(_mapper, _connection, customer: Customer) -> None:
    """Whatever writes a person through the ORM keeps the folded names in step with the names.
    (Bulk inserts of rows call domain.names.folded_names themselves.)"""
    refresh_folded_names(customer)


class Consent(db.Model):
    """An append-only record of each consent given or withdrawn, per channel."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_customer_channel", "customer_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    channel: Mapped[str] = mapped_column(String(10))
    granted: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(20))
    wording: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
