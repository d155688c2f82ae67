"""Contests (jeux-concours): the contest, its prizes, its versioned rules, entries and the draw.

A contest's state follows from its fields: a draft until `published_at`; open between
`starts_at` and `ends_at`; once ended, entries are moderated, then the eligible list is
frozen and committed (`committed_at`, with the hash of the secret seed and of the frozen
list published), then drawn (`drawn_at`, the seed published).
"""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow

ELIGIBILITIES = ("everyone", "cardholders")
ENTRY_TYPES = ("draw", "question", "text", "photo")
ENTRY_LIMITS = ("once", "daily")
ENTRY_STATUSES = ("pending", "accepted", "rejected")


class Contest(db.Model):
    __tablename__ = "contest"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    # Re-encoded like the logo; deferred so lists never load the images.
    image_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    image_version: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    eligibility: Mapped[str] = mapped_column(String(12), default="everyone")
    entry_type: Mapped[str] = mapped_column(String(10), default="draw")
    question: Mapped[str] = mapped_column(Text, default="")
    # The right answer as typed by the organiser; compared after normalisation (case, accents, spaces).
    answer: Mapped[str] = mapped_column(String(200), default="")
    entry_limit: Mapped[str] = mapped_column(String(8), default="once")
    minimum_age: Mapped[int] = mapped_column(Integer, default=18)
    rules_extra: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The verifiable draw: commitment first, seed published after the draw.
    seed_commitment: Mapped[str | None] = mapped_column(String(64))
    entries_hash: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seed: Mapped[str | None] = mapped_column(String(64))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContestPrize(db.Model):
    __tablename__ = "contest_prize"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(160))
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class ContestRules(db.Model):
    """One version of the rules (règlement), generated from the contest's fields plus free text."""

    __tablename__ = "contest_rules"
    __table_args__ = (UniqueConstraint("contest_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContestEntry(db.Model):
    """One entry of one person. `limit_key` ('once' or the local date) makes the per-person
    limit a unique constraint, so two simultaneous entries cannot both pass."""

    __tablename__ = "contest_entry"
    __table_args__ = (
        UniqueConstraint("contest_id", "customer_id", "limit_key"),
        Index("ix_contest_entry_queue", "contest_id", "status", "id"),
        Index("ix_contest_entry_email_key", "contest_id", "email_key"),
        Index("ix_contest_entry_phone_key", "contest_id", "phone_key"),
        Index("ix_contest_entry_address_key", "contest_id", "address_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    limit_key: Mapped[str] = mapped_column(String(10))
    entered_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rules_version: Mapped[int] = mapped_column(Integer)
    age_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The entrant's agreement to appear in the public winners list (first name, initial, town).
    public_name_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    answer_correct: Mapped[bool | None] = mapped_column(Boolean)
    photo_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    town: Mapped[str] = mapped_column(String(80), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    # Normalised keys for duplicate flags within the contest (Gmail dots and +tags folded).
    email_key: Mapped[str] = mapped_column(String(254), default="")
    phone_key: Mapped[str] = mapped_column(String(20), default="")
    address_key: Mapped[str] = mapped_column(String(200), default="")
    # Comma-separated flags shown to moderators: duplicate_email, duplicate_phone,
    # duplicate_address, disposable_email.
    flags: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str] = mapped_column(String(200), default="")


class ContestDrawEntry(db.Model):
    """The frozen list of eligible entries, in the order whose hash is published.

    No foreign keys on purpose, as for rfm_score: the list is a copy of ids written 100,000 rows
    at once by the freeze, and PostgreSQL's per-row FK triggers would take two thirds of its
    time. Contests and entries are never deleted, and the published hash covers the list."""

    __tablename__ = "contest_draw_entry"

    contest_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)


class ContestWinner(db.Model):
    """A drawn entry: a winner of a prize, or a reserve winner (prize_id empty) in order."""

    __tablename__ = "contest_winner"
    __table_args__ = (UniqueConstraint("contest_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id"))
    rank: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[int] = mapped_column(ForeignKey("contest_entry.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    prize_id: Mapped[int | None] = mapped_column(ForeignKey("contest_prize.id"))
    reserve: Mapped[bool] = mapped_column(Boolean, default=False)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
