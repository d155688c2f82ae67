"""Who a campaign reaches: criteria over the shared file, then consent per channel.

A target is the people (not erased, not merged into another record) who meet every
criterion given; a criterion left empty does not filter. Criteria:

- `segments`: RFM segments of the latest snapshot, union-wide or of one shop (`segment_shop_id`);
- `shop_id` + `shop_visited` (True: visited, False: never visited) + `shop_since` / `shop_until`:
  a non-void visit at that shop in the period (any time when both dates are empty);
- `last_visit_after` / `last_visit_before`: the date of the last non-void visit anywhere
  (people who never came have none and are left out by either);
- `postcodes`; `kind`: everyone, cardholders (an active card) or prospects (no card);
- `contest_id`: entrants of that contest; `saved_target_id`: a list saved from the dashboards.

Consent is applied per channel on top, automatically: an e-mail goes only to people whose
latest e-mail decision is a yes and who have an address; a letter to people who did not
refuse post (latest post decision a yes, or none recorded) and have a full postal address.
Everything is SQL: counting a target of 100,000 people is one query.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from webapp.domain import rfm
from webapp.domain.errors import DomainError
from webapp.models import (
    Card,
    Consent,
    ContestEntry,
    Customer,
    RfmScore,
    SavedTargetMember,
    Visit,
)

KINDS = ("everyone", "cardholders", "prospects")
MAX_POSTCODES = 50


class InvalidCriteria(DomainError):
    """reason: segment, kind, dates, postcode, shop_visited."""

    code = "invalid_criteria"

    def __init__(self, reason: str):
        super().__init__(reason, reason=reason)
        self.reason = reason


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise InvalidCriteria("dates") from error


def _int(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise InvalidCriteria("dates") from error


@dataclass(frozen=True)
class Criteria:
    segments: tuple[str, ...] = ()
    segment_shop_id: int | None = None
    shop_id: int | None = None
    shop_visited: bool = True
    shop_since: date | None = None
    shop_until: date | None = None
    last_visit_after: date | None = None
    last_visit_before: date | None = None
    postcodes: tuple[str, ...] = ()
    kind: str = "everyone"
    contest_id: int | None = None
    saved_target_id: int | None = None
    timezone: str = field(default="Europe/Paris", compare=False)

    @classmethod
    def from_dict(cls, data: dict | None, timezone: str = "Europe/Paris") -> "Criteria":
        """Validated criteria from stored or submitted values (InvalidCriteria with the reason)."""
        data = data or {}
        segments = tuple(dict.fromkeys(str(s) for s in data.get("segments") or ()))
        if any(segment not in rfm.SEGMENTS for segment in segments):
            raise InvalidCriteria("segment")
        kind = data.get("kind") or "everyone"
        if kind not in KINDS:
            raise InvalidCriteria("kind")
        raw_postcodes = data.get("postcodes") or ()
        if isinstance(raw_postcodes, str):
            raw_postcodes = raw_postcodes.replace(",", " ").split()
        postcodes = tuple(dict.fromkeys(str(p).strip() for p in raw_postcodes if str(p).strip()))
        if len(postcodes) > MAX_POSTCODES or any(not (len(p) == 5 and p.isdigit()) for p in postcodes):
            raise InvalidCriteria("postcode")
        criteria = cls(
            segments=segments,
            segment_shop_id=_int(data.get("segment_shop_id")),
            shop_id=_int(data.get("shop_id")),
            shop_visited=data.get("shop_visited", True) not in (False, "0", "false", "never"),
            shop_since=_date(data.get("shop_since")),
            shop_until=_date(data.get("shop_until")),
            last_visit_after=_date(data.get("last_visit_after")),
            last_visit_before=_date(data.get("last_visit_before")),
            postcodes=postcodes,
            kind=kind,
            contest_id=_int(data.get("contest_id")),
            saved_target_id=_int(data.get("saved_target_id")),
            timezone=timezone,
        )
        for start, end in (
            (criteria.shop_since, criteria.shop_until),
            (criteria.last_visit_after, criteria.last_visit_before),
        ):
            if start and end and start > end:
                raise InvalidCriteria("dates")
        return criteria

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("timezone")
        for name, value in data.items():
            if isinstance(value, date):
                data[name] = value.isoformat()
            elif isinstance(value, tuple):
                data[name] = list(value)
        return data

    def _start_utc(self, day: date) -> datetime:
        return datetime.combine(day, time(), ZoneInfo(self.timezone))

    def _end_utc(self, day: date) -> datetime:
        """Local midnight after `day`: a date bound includes the whole day."""
        return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(self.timezone))


def _listable():
    return and_(Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))


def _conditions(session: Session, criteria: Criteria) -> list:
    conditions = [_listable()]
    if criteria.segments:
        snapshot = rfm.latest_snapshot(session, criteria.segment_shop_id)
        snapshot_id = snapshot.id if snapshot is not None else -1
        conditions.append(
            exists().where(
                RfmScore.snapshot_id == snapshot_id,
                RfmScore.customer_id == Customer.id,
                RfmScore.segment.in_(criteria.segments),
            )
        )
    if criteria.shop_id is not None:
        visit_conditions = [Visit.customer_id == Customer.id, Visit.shop_id == criteria.shop_id]
        visit_conditions.append(Visit.voided_at.is_(None))
        if criteria.shop_since:
            visit_conditions.append(Visit.visited_at >= criteria._start_utc(criteria.shop_since))
        if criteria.shop_until:
            visit_conditions.append(Visit.visited_at < criteria._end_utc(criteria.shop_until))
        visited = exists().where(*visit_conditions)
        conditions.append(visited if criteria.shop_visited else ~visited)
    if criteria.last_visit_after or criteria.last_visit_before:
        last = (
            select(func.max(Visit.visited_at))
            .where(Visit.customer_id == Customer.id, Visit.voided_at.is_(None))
            .scalar_subquery()
        )
        if criteria.last_visit_after:
            conditions.append(last >= criteria._start_utc(criteria.last_visit_after))
        if criteria.last_visit_before:
            conditions.append(last < criteria._end_utc(criteria.last_visit_before))
    if criteria.postcodes:
        conditions.append(Customer.postcode.in_(criteria.postcodes))
    if criteria.kind != "everyone":
        has_card = exists().where(Card.customer_id == Customer.id, Card.status == "active")
        conditions.append(has_card if criteria.kind == "cardholders" else ~has_card)
    if criteria.contest_id is not None:
        conditions.append(
            exists().where(ContestEntry.contest_id == criteria.contest_id, ContestEntry.customer_id == Customer.id)
        )
    if criteria.saved_target_id is not None:
        conditions.append(
            exists().where(
                SavedTargetMember.target_id == criteria.saved_target_id,
                SavedTargetMember.customer_id == Customer.id,
            )
        )
    return conditions


def latest_consent(channel: str):
    """SQL: the customer's latest decision for a channel (True, False, or NULL when never asked)."""
    newest = aliased(Consent)
    return (
        select(Consent.granted)
        .where(
            Consent.customer_id == Customer.id,
            Consent.channel == channel,
            ~exists().where(
                newest.customer_id == Consent.customer_id, newest.channel == channel, newest.id > Consent.id
            ),
        )
        .scalar_subquery()
    )


def consent_condition(channel: str):
    """SQL: the person may be reached on this campaign channel ("email" or "letter")."""
    if channel == "email":
        return latest_consent("email").is_(True)
    return func.coalesce(latest_consent("post"), True).is_(True)


def contact_condition(channel: str):
    """SQL: the person has what the channel needs (an e-mail address, or a full postal address)."""
    if channel == "email":
        return and_(Customer.email.is_not(None), Customer.email != "")
    return and_(
        Customer.street.is_not(None), Customer.street != "", Customer.postcode.is_not(None), Customer.town.is_not(None)
    )


def target_ids(session: Session, criteria: Criteria):
    """SQL: the ids of the people the criteria select, before consent."""
    return select(Customer.id).where(*_conditions(session, criteria))


def reachable_ids(session: Session, criteria: Criteria, channel: str):
    """SQL: the ids of the people a campaign on this channel may reach."""
    return target_ids(session, criteria).where(consent_condition(channel), contact_condition(channel))


@dataclass(frozen=True)
class Audience:
    targeted: int  # people the criteria select
    without_consent: int  # of those, excluded: no consent for the channel
    without_contact: int  # of those with consent, excluded: no e-mail address / postal address
    reachable: int


def count_audience(session: Session, criteria: Criteria, channel: str) -> Audience:
    """The target's size and what consent and contact details leave of it, in one query."""
    consented = consent_condition(channel)
    contact = contact_condition(channel)
    targeted, with_consent, reachable = session.execute(
        select(
            func.count(),
            func.count().filter(consented),
            func.count().filter(and_(consented, contact)),
        ).where(*_conditions(session, criteria))
    ).one()
    return Audience(targeted, targeted - with_consent, with_consent - reachable, reachable)
