"""Direct-marketing campaigns: what is sent to whom, and what became of each recipient.

A campaign is a draft until it is sent (now or at a scheduled time). Sending freezes its
audience: one `campaign_recipient` row per person of the target, assigned at random (stable,
from the campaign's salt) to the group that receives it or to the holdout group that
receives nothing and serves as the comparison in the report. People without consent for the
channel are never given a row. Each row then goes queued -> sent | failed, exactly once.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.types import UTCDateTime, utcnow

CAMPAIGN_CHANNELS = ("email", "letter")
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "cancelled")
CALLS_TO_ACTION = ("none", "link", "offer", "contest")
RECIPIENT_STATUSES = ("queued", "sent", "failed", "holdout")


class Campaign(db.Model):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10), default="email")
    criteria: Mapped[dict] = mapped_column(JSON, default=dict)  # domain/targeting.py Criteria.as_dict()
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown with merge fields
    cta_kind: Mapped[str] = mapped_column(String(10), default="none")
    cta_label: Mapped[str] = mapped_column(String(80), default="")
    cta_url: Mapped[str] = mapped_column(String(500), default="")
    offer_code: Mapped[str] = mapped_column(String(40), default="")
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contest.id"))
    holdout_percent: Mapped[int] = mapped_column(SmallInteger, default=10)
    # Random per campaign, fixed at creation: the holdout draw is stable and nobody can predict it.
    salt: Mapped[str] = mapped_column(String(32))
    report_days: Mapped[int] = mapped_column(SmallInteger, default=30)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # While a worker sends a batch it holds the campaign until this time (domain/campaigns.py).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignRecipient(db.Model):
    __tablename__ = "campaign_recipient"
    __table_args__ = (Index("ix_campaign_recipient_queue", "campaign_id", "status", "customer_id"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    holdout: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    address: Mapped[str] = mapped_column(String(254), default="")  # the e-mail address used, for the record
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
