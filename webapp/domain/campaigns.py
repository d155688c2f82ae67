"""Campaigns: their content, the frozen audience with its holdout group, sending exactly once.

Content. Staff write the subject and the body in Markdown with merge fields written
`{{ prenom }}` (MERGE_FIELDS). The body is rendered by markdown-it with raw HTML disabled,
then cleaned by nh3 (an allow-list of tags and attributes, links http/https/mailto only);
the merge fields are then rendered into that clean HTML by Jinja's sandbox with
autoescaping, so a first name can never inject markup, and a template can neither reach
Python objects nor use a field that does not exist (checked when the campaign is saved).

Audience. Sending freezes the audience (`start_sending`): the people the criteria and the
channel's consent reach get one recipient row each, assigned to the holdout group when a
hash of the campaign's random salt and their id falls in the holdout share: random, stable
(the same person stays in the same group) and decided before anything is sent.

Sending. The worker takes the queued recipients by small batches (`queued_batch`), sends
each message, and marks it sent (`mark_sent`) in its own transaction: a worker stopped
between two batches, or between two messages, goes on where it stopped when it starts
again. A temporary failure is retried (MAX_ATTEMPTS), a permanent one is marked failed.
A batch holds the campaign's lease (`take_lease`), so two workers never send the same
campaign at once; a worker killed mid-batch leaves a lease that expires after LEASE, and the
campaign is then resumed (`stalled_campaigns`). Only a kill in the instant between the mail
server's acceptance and the commit that follows can send one message twice.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from math import sqrt

import nh3
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from sqlalchemy import and_, bindparam, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from webapp.domain import audit, targeting
from webapp.domain.consent import current_consents, record_consents
from webapp.domain.errors import DomainError
from webapp.models import (
    CALLS_TO_ACTION,
    CAMPAIGN_CHANNELS,
    Campaign,
    CampaignRecipient,
    Contest,
    Customer,
    PointsEntry,
    Shop,
    Visit,
)
from webapp.models.types import UTCDateTime

MERGE_FIELDS = {
    "prenom": "the first name",
    "points": "the points balance",
    "boutique_preferee": "the shop the person visits most",
    "boutique_a_decouvrir": "a member shop the person never visited (the most visited of those)",
    "union": "the union's name",
}
MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=5)
HOLDOUT_MAX = 50
NAME_MAX, SUBJECT_MAX, BODY_MAX = 120, 200, 20_000
_ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "h2", "h3", "blockquote", "hr", "code"}
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_sandbox_html = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
_sandbox_text = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


class CampaignInvalid(DomainError):
    """reason: name, channel, subject, body, merge_field, template, cta, cta_url, offer_code, contest,
    holdout, report_days, too_long."""

    code = "campaign_invalid"

    def __init__(self, reason: str, **params):
        super().__init__(reason, reason=reason, **params)
        self.reason = reason


class CampaignLocked(DomainError):
    """The campaign is no longer a draft: it cannot be edited or sent again."""

    code = "campaign_locked"


# Content.


def markdown_html(markdown: str) -> str:
    """Staff Markdown as clean HTML (no raw HTML, an allow-list of tags, safe links)."""
    return nh3.clean(
        _markdown.render(markdown or ""),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )


def _template_fields(source: str) -> set[str]:
    try:
        return meta.find_undeclared_variables(_sandbox_text.parse(source))
    except TemplateError as error:
        raise CampaignInvalid("template", problem=str(error).splitlines()[0][:120]) from error


def check_merge_fields(*sources: str) -> None:
    for source in sources:
        unknown = sorted(_template_fields(source) - set(MERGE_FIELDS))
        if unknown:
            raise CampaignInvalid("merge_field", field=unknown[0])


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str  # the body, clean HTML with the merge fields filled in
    text: str  # the body as plain text (the Markdown source with the merge fields)


@lru_cache(maxsize=32)
def _templates(subject: str, body: str):
    """The subject, HTML body and text body compiled once per campaign content (not per recipient)."""
    try:
        return (
            _sandbox_text.from_string(subject),
            _sandbox_html.from_string(markdown_html(body)),
            _sandbox_text.from_string(body),
        )
    except TemplateError as error:
        raise CampaignInvalid("template", problem=str(error).splitlines()[0][:120]) from error


def render_content(subject: str, body: str, fields: dict) -> Rendered:
    """Fill the merge fields of a subject and a Markdown body for one person (see the module docstring)."""
    values = {name: fields.get(name, "") for name in MERGE_FIELDS}
    subject_template, html_template, text_template = _templates(subject, body)
    try:
        rendered_subject = " ".join(subject_template.render(values).split())
        html = html_template.render(values)
        text = text_template.render(values)
    except TemplateError as error:
        raise CampaignInvalid("template", problem=str(error).splitlines()[0][:120]) from error
    return Rendered(rendered_subject, html, text)


def sample_fields(union_name: str) -> dict:
    """Merge fields of an imaginary person, for previews."""
    return {
        "prenom": "Camille",
        "points": 42,
        "boutique_preferee": "La boutique préférée",
        "boutique_a_decouvrir": "Une boutique à découvrir",
        "union": union_name,
    }


def merge_fields(session: Session, customer_ids: list[int], union_name: str) -> dict[int, dict]:
    """The merge fields of many people at once: a few grouped queries, whatever their number."""
    if not customer_ids:
        return {}
    names = dict(session.execute(select(Customer.id, Customer.first_name).where(Customer.id.in_(customer_ids))).all())
    points = dict(
        session.execute(
            select(PointsEntry.customer_id, func.sum(PointsEntry.points))
            .where(PointsEntry.customer_id.in_(customer_ids))
            .group_by(PointsEntry.customer_id)
        ).all()
    )
    visits = session.execute(
        select(Visit.customer_id, Visit.shop_id, func.count())
        .where(Visit.customer_id.in_(customer_ids), Visit.voided_at.is_(None), Visit.shop_id.is_not(None))
        .group_by(Visit.customer_id, Visit.shop_id)
    ).all()
    shops = session.execute(
        select(Shop.id, Shop.name, func.count(func.distinct(Visit.customer_id)).label("customers"))
        .outerjoin(Visit, and_(Visit.shop_id == Shop.id, Visit.voided_at.is_(None)))
        .where(Shop.active)
        .group_by(Shop.id, Shop.name)
        .order_by(func.count(func.distinct(Visit.customer_id)).desc(), Shop.name)
    ).all()
    shop_names = {shop_id: name for shop_id, name, _count in shops}
    per_person: dict[int, dict[int, int]] = {}
    for customer_id, shop_id, count in visits:
        per_person.setdefault(customer_id, {})[shop_id] = count
    fields = {}
    for customer_id in customer_ids:
        visited = per_person.get(customer_id, {})
        favourite = max(visited, key=lambda shop_id: (visited[shop_id], -shop_id), default=None)
        to_discover = next((shop_id for shop_id, _name, _count in shops if shop_id not in visited), None)
        fields[customer_id] = {
            "prenom": names.get(customer_id) or "",
            "points": int(points.get(customer_id) or 0),
            "boutique_preferee": shop_names.get(favourite, "") if favourite else "",
            "boutique_a_decouvrir": shop_names.get(to_discover, "") if to_discover else "",
            "union": union_name,
        }
    return fields


# Saving.


def _validated(session: Session, **values) -> dict:
    name = " ".join((values["name"] or "").split())
    if not name:
        raise CampaignInvalid("name")
    if values["channel"] not in CAMPAIGN_CHANNELS:
        raise CampaignInvalid("channel")
    subject = " ".join((values["subject"] or "").split())
    body = (values["body"] or "").strip()
    if not subject:
        raise CampaignInvalid("subject")
    if not body:
        raise CampaignInvalid("body")
    if len(name) > NAME_MAX or len(subject) > SUBJECT_MAX or len(body) > BODY_MAX:
        raise CampaignInvalid("too_long")
    check_merge_fields(subject, body)
    cta_kind = values["cta_kind"] or "none"
    if cta_kind not in CALLS_TO_ACTION:
        raise CampaignInvalid("cta")
    cta_url = (values["cta_url"] or "").strip()
    offer_code = (values["offer_code"] or "").strip().upper()
    contest_id = values["contest_id"]
    if cta_kind == "link" and not _URL.match(cta_url):
        raise CampaignInvalid("cta_url")
    if cta_kind == "offer" and not re.fullmatch(r"[A-Z0-9-]{3,40}", offer_code):
        raise CampaignInvalid("offer_code")
    if cta_kind == "contest" and (contest_id is None or session.get(Contest, contest_id) is None):
        raise CampaignInvalid("contest")
    holdout = values["holdout_percent"]
    if holdout is None or not 0 <= int(holdout) <= HOLDOUT_MAX:
        raise CampaignInvalid("holdout")
    report_days = values["report_days"]
    if report_days is None or not 1 <= int(report_days) <= 365:
        raise CampaignInvalid("report_days")
    return dict(
        name=name,
        channel=values["channel"],
        criteria=values["criteria"].as_dict(),
        subject=subject,
        body=body,
        cta_kind=cta_kind,
        cta_label=" ".join((values["cta_label"] or "").split())[:80],
        cta_url=cta_url if cta_kind == "link" else "",
        offer_code=offer_code if cta_kind == "offer" else "",
        contest_id=contest_id if cta_kind == "contest" else None,
        holdout_percent=int(holdout),
        report_days=int(report_days),
    )


def save_campaign(
    session: Session,
    campaign: Campaign | None,
    *,
    name: str,
    channel: str,
    criteria: targeting.Criteria,
    subject: str,
    body: str,
    cta_kind: str = "none",
    cta_label: str = "",
    cta_url: str = "",
    offer_code: str = "",
    contest_id: int | None = None,
    holdout_percent: int = 10,
    report_days: int = 30,
    by_id: int | None,
    now: datetime,
) -> Campaign:
    """Create (campaign None) or edit a draft; CampaignInvalid with the reason, and nothing written."""
    if campaign is not None and campaign.status != "draft":
        raise CampaignLocked()
    values = _validated(
        session,
        name=name,
        channel=channel,
        criteria=criteria,
        subject=subject,
        body=body,
        cta_kind=cta_kind,
        cta_label=cta_label,
        cta_url=cta_url,
        offer_code=offer_code,
        contest_id=contest_id,
        holdout_percent=holdout_percent,
        report_days=report_days,
    )
    if campaign is None:
        campaign = Campaign(salt=secrets.token_hex(16), status="draft", created_by_id=by_id, created_at=now)
        session.add(campaign)
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.updated_at = now
    session.flush()
    return campaign


def criteria_of(campaign: Campaign, timezone: str) -> targeting.Criteria:
    return targeting.Criteria.from_dict(campaign.criteria, timezone)


def campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())))


# Freezing the audience and sending.


def in_holdout(salt: str, customer_id: int, percent: int) -> bool:
    """Stable and unpredictable without the salt: the first 8 bytes of SHA-256(salt:id), in ten-thousandths."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


def _lock(session: Session, campaign: Campaign) -> Campaign:
    return session.scalars(
        select(Campaign).where(Campaign.id == campaign.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def schedule(session: Session, campaign: Campaign, at: datetime, *, by_id: int | None, now: datetime) -> Campaign:
    """Send later: the worker starts it at `at` (a time in the past means now)."""
    campaign = _lock(session, campaign)
    if campaign.status not in ("draft", "scheduled"):
        raise CampaignLocked()
    campaign.status, campaign.scheduled_at, campaign.updated_at = "scheduled", max(at, now), now
    session.flush()
    audit.record(
        session,
        account_id=by_id,
        action="campaign_schedule",
        now=now,
        object_type="campaign",
        object_id=campaign.id,
        at=campaign.scheduled_at.isoformat(),
    )
    return campaign


def cancel(session: Session, campaign: Campaign, *, now: datetime) -> Campaign:
    """A scheduled campaign back to draft (a campaign being sent cannot be called back)."""
    campaign = _lock(session, campaign)
    if campaign.status != "scheduled":
        raise CampaignLocked()
    campaign.status, campaign.scheduled_at, campaign.updated_at = "draft", None, now
    session.flush()
    return campaign


def due_campaigns(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(select(Campaign.id).where(Campaign.status == "scheduled", Campaign.scheduled_at <= now))
    )


def start_sending(session: Session, campaign: Campaign, *, timezone: str, by_id: int | None, now: datetime) -> int:
    """Freeze the audience (recipients queued or in the holdout group) and mark the campaign sending.

    Returns the number of recipients (outside the holdout group). Refused (CampaignLocked) once started: the rows are
    written once, under the campaign's row lock.
    """
    campaign = _lock(session, campaign)
    if campaign.status not in ("draft", "scheduled"):
        raise CampaignLocked()
    criteria = criteria_of(campaign, timezone)
    people = session.execute(
        select(Customer.id, Customer.email)
        .where(Customer.id.in_(targeting.reachable_ids(session, criteria, campaign.channel)))
        .order_by(Customer.id)
    ).all()
    # A letter is "sent" once its page is in the letters PDF, which the campaign page makes at once.
    to_send = "queued" if campaign.channel == "email" else "sent"
    rows = [
        {
            "campaign_id": campaign.id,
            "customer_id": customer_id,
            "holdout": held_out,
            "status": "holdout" if held_out else to_send,
            "sent_at": None if held_out or to_send == "queued" else now,
            "address": (email or "") if campaign.channel == "email" else "",
            "attempts": 0,
            "last_error": "",
        }
        for customer_id, email in people
        for held_out in [in_holdout(campaign.salt, customer_id, campaign.holdout_percent)]
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(CampaignRecipient), rows[start : start + 5000])
    queued = sum(not row["holdout"] for row in rows)
    campaign.status, campaign.started_at, campaign.updated_at = "sending", now, now
    if not queued or to_send == "sent":
        campaign.status, campaign.finished_at = "sent", now
    session.flush()
    audit.record(
        session,
        account_id=by_id,
        action="campaign_send",
        now=now,
        object_type="campaign",
        object_id=campaign.id,
        recipients=queued,
        holdout=len(rows) - queued,
    )
    return queued


def take_lease(session: Session, campaign_id: int, now: datetime) -> bool:
    """Hold a campaign being sent for one batch; False when another worker holds it (or it is not sending)."""
    taken = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == "sending",
            or_(Campaign.lease_until.is_(None), Campaign.lease_until < now),
        )
        .values(lease_until=now + LEASE)
    )
    return taken.rowcount == 1


def release_lease(session: Session, campaign_id: int) -> None:
    session.execute(update(Campaign).where(Campaign.id == campaign_id).values(lease_until=None))


def stalled_campaigns(session: Session, now: datetime) -> list[int]:
    """Campaigns being sent that nobody holds (their worker stopped or died): to resume."""
    return list(
        session.scalars(
            select(Campaign.id).where(
                Campaign.status == "sending",
                or_(Campaign.lease_until.is_(None), Campaign.lease_until < now),
            )
        )
    )


def queued_batch(session: Session, campaign_id: int, limit: int) -> list[tuple[int, str]]:
    """(customer id, address) of the next queued recipients still to try, by customer id."""
    return list(
        session.execute(
            select(CampaignRecipient.customer_id, CampaignRecipient.address)
            .where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.status == "queued",
                CampaignRecipient.attempts < MAX_ATTEMPTS,
            )
            .order_by(CampaignRecipient.attempts, CampaignRecipient.customer_id)
            .limit(limit)
        ).all()
    )


def _recipient(campaign_id: int, customer_id: int):
    return and_(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.customer_id == customer_id)


_recipients = CampaignRecipient.__table__
# Built once (Core, bound parameters): one statement per message sent, ten thousand per campaign.
_MARK_SENT = (
    update(_recipients)
    .where(
        _recipients.c.campaign_id == bindparam("b_campaign"),
        _recipients.c.customer_id == bindparam("b_customer"),
        _recipients.c.status == "queued",
    )
    .values(status="sent", sent_at=bindparam("b_now", type_=UTCDateTime), attempts=_recipients.c.attempts + 1)
)


def mark_sent(session: Session, campaign_id: int, customer_id: int, now: datetime) -> bool:
    """Record one message as sent; False if it was not queued (already sent by another worker)."""
    done = session.connection().execute(
        _MARK_SENT, {"b_campaign": campaign_id, "b_customer": customer_id, "b_now": now}
    )
    return done.rowcount == 1


def mark_failed(session: Session, campaign_id: int, customer_id: int, error: str, *, permanent: bool) -> None:
    """One failed attempt: queued again for a retry, or failed for good (permanent, or out of attempts)."""
    attempts = CampaignRecipient.attempts + 1
    session.execute(
        update(CampaignRecipient)
        .where(_recipient(campaign_id, customer_id), CampaignRecipient.status == "queued")
        .values(
            attempts=attempts,
            last_error=(error.splitlines() or [""])[0][:200],
            status="failed" if permanent else case((attempts >= MAX_ATTEMPTS, "failed"), else_="queued"),
        )
    )


def finish_if_done(session: Session, campaign_id: int, now: datetime) -> bool:
    """Mark the campaign sent when nothing is left to try; True if it is."""
    left = session.scalar(
        select(
            exists().where(
                CampaignRecipient.campaign_id == campaign_id,
                CampaignRecipient.status == "queued",
                CampaignRecipient.attempts < MAX_ATTEMPTS,
            )
        )
    )
    if left:
        return False
    session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == "queued")
        .values(status="failed")
    )
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == "sending")
        .values(status="sent", finished_at=now, updated_at=now, lease_until=None)
    )
    return True


def recipient_counts(session: Session, campaign_id: int) -> dict[str, int]:
    counts = dict.fromkeys(("queued", "sent", "failed", "holdout"), 0)
    counts.update(
        session.execute(
            select(CampaignRecipient.status, func.count())
            .where(CampaignRecipient.campaign_id == campaign_id)
            .group_by(CampaignRecipient.status)
        ).all()
    )
    return counts


def letter_recipients(session: Session, campaign: Campaign) -> list[Customer]:
    """The people a letter campaign's PDF addresses (its frozen recipients outside the holdout)."""
    return list(
        session.scalars(
            select(Customer)
            .join(CampaignRecipient, CampaignRecipient.customer_id == Customer.id)
            .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.holdout.is_(False))
            .order_by(Customer.postcode, Customer.last_name, Customer.id)
        )
    )


# Unsubscribing.


def unsubscribe(session: Session, customer_id: int, campaign: Campaign | None, *, now: datetime) -> bool:
    """Withdraw the person's e-mail consent (True if it was given); recorded like any consent change."""
    if not current_consents(session, customer_id)["email"]:
        return False
    wording = "Désinscription par le lien d'un e-mail"
    if campaign is not None:
        wording += f" (campagne « {campaign.name} »)"
    record_consents(session, customer_id, {"email": False}, method="unsubscribe", wordings={"email": wording}, now=now)
    return True


# The effect report.


@dataclass(frozen=True)
class GroupFigures:
    people: int
    visits_per_person: float
    spend_per_person_cents: float
    new_shop_visitors: int  # people who visited a member shop they had never visited before the campaign
    visits_variance: float
    spend_variance: float


@dataclass(frozen=True)
class Difference:
    value: float
    low: float  # 95 % confidence interval (normal approximation, Welch's standard error)
    high: float


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    complete: bool  # the period is over
    sent: GroupFigures
    holdout: GroupFigures
    visits: Difference | None
    spend: Difference | None


def _difference(mean_a, var_a, n_a, mean_b, var_b, n_b) -> Difference | None:
    if n_a < 2 or n_b < 2:
        return None
    error = sqrt(var_a / n_a + var_b / n_b)
    value = mean_a - mean_b
    return Difference(value, value - 1.96 * error, value + 1.96 * error)


def effect_report(session: Session, campaign: Campaign, now: datetime) -> Report | None:
    """Visits and spend per person during the report period, recipients against the holdout group.

    Everyone assigned to a group counts in it (a failed e-mail too: intention to treat). Per
    person, one grouped query over the visits of the period; per group, sums and sums of squares.
    """
    if campaign.started_at is None:
        return None
    start = campaign.started_at
    end = start + timedelta(days=campaign.report_days)
    until = min(end, now)
    in_period = and_(
        Visit.customer_id == CampaignRecipient.customer_id,
        Visit.voided_at.is_(None),
        Visit.visited_at >= start,
        Visit.visited_at < until,
    )
    earlier = aliased(Visit)
    new_shop = exists().where(
        in_period,
        Visit.shop_id.is_not(None),
        ~exists().where(
            earlier.customer_id == Visit.customer_id,
            earlier.shop_id == Visit.shop_id,
            earlier.voided_at.is_(None),
            earlier.visited_at < start,
        ),
    )
    per_person = (
        select(
            CampaignRecipient.holdout.label("holdout"),
            select(func.count()).where(in_period).scalar_subquery().label("visits"),
            select(func.coalesce(func.sum(Visit.amount_cents), 0)).where(in_period).scalar_subquery().label("spend"),
            case((new_shop, 1), else_=0).label("new_shop"),
        )
        .where(CampaignRecipient.campaign_id == campaign.id)
        .subquery()
    )
    groups = {
        held_out: (people, visits, visits_sq, spend, spend_sq, new_shops)
        for held_out, people, visits, visits_sq, spend, spend_sq, new_shops in session.execute(
            select(
                per_person.c.holdout,
                func.count(),
                func.sum(per_person.c.visits),
                func.sum(per_person.c.visits * per_person.c.visits),
                func.sum(per_person.c.spend),
                func.sum(per_person.c.spend * per_person.c.spend),
                func.sum(per_person.c.new_shop),
            ).group_by(per_person.c.holdout)
        )
    }

    def figures(held_out: bool) -> GroupFigures:
        people, visits, visits_sq, spend, spend_sq, new_shops = groups.get(held_out, (0, 0, 0, 0, 0, 0))
        visits, visits_sq, spend, spend_sq = (float(v or 0) for v in (visits, visits_sq, spend, spend_sq))
        mean_visits = visits / people if people else 0.0
        mean_spend = spend / people if people else 0.0
        var_visits = (visits_sq - people * mean_visits**2) / (people - 1) if people > 1 else 0.0
        var_spend = (spend_sq - people * mean_spend**2) / (people - 1) if people > 1 else 0.0
        return GroupFigures(people, mean_visits, mean_spend, int(new_shops or 0), var_visits, var_spend)

    sent, holdout = figures(False), figures(True)
    return Report(
        start=start,
        end=end,
        complete=now >= end,
        sent=sent,
        holdout=holdout,
        visits=_difference(
            sent.visits_per_person,
            sent.visits_variance,
            sent.people,
            holdout.visits_per_person,
            holdout.visits_variance,
            holdout.people,
        ),
        spend=_difference(
            sent.spend_per_person_cents,
            sent.spend_variance,
            sent.people,
            holdout.spend_per_person_cents,
            holdout.spend_variance,
            holdout.people,
        ),
    )
