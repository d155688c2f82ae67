"""Login accounts: shoppers and staff (merchant, organiser, admin)."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.people import Customer
from webapp.models.shops import Shop
from webapp.models.types import UTCDateTime, utcnow

ROLES = ("shopper", "merchant", "organiser", "admin")
STAFF_ROLES = ("merchant", "organiser", "admin")


class Account(UserMixin, db.Model):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="shopper")
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    locale: Mapped[str | None] = mapped_column(String(5))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shop: Mapped[Shop | None] = relationship(lazy="joined")
    customer: Mapped[Customer | None] = relationship()

    def get_id(self) -> str:
        # The session version makes every earlier session cookie stale at once.
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES
