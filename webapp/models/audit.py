"""Who did or looked at what: exports, merges, personal-data views. Append-only."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[int | None]
    detail: Mapped[dict | None] = mapped_column(JSON)
