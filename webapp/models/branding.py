"""The union itself: name, logo, colours, address and programme rules (one row)."""

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class Union(db.Model):
    __tablename__ = "union_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    tagline: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f3a93")
    accent_color: Mapped[str] = mapped_column(String(7), default="#e4572e")
    # Deferred: every page reads the union, only /logo.png needs the image itself.
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_version: Mapped[int] = mapped_column(Integer, default=0)
    points_per_euro: Mapped[int] = mapped_column(Integer, default=1)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=10)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    rules_text: Mapped[str] = mapped_column(Text, default="")
