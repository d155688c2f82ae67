"""Crediting visits exactly once, the cooldown, and voiding.

Exactly-once: every credit carries an idempotency key made by the client at
scan time. The card row is locked first (a no-op on SQLite, whose writers are
serialised by BEGIN IMMEDIATE), so concurrent requests for one card queue up;
the key is then looked up, and the insert itself is guarded by the unique
index, so a retried or concurrent request can never credit twice.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from webapp.domain.errors import (
    AlreadyVoided,
    CooldownActive,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InvalidAmount,
    InvalidIdempotencyKey,
    VisitNotFound,
)
from webapp.domain.points import points_for
from webapp.models import Card, Customer, PointsEntry, Shop, Visit
from webapp.models.types import UTCDateTime

MAX_AMOUNT_CENTS = 1_000_000
_AMOUNT_RE = re.compile(r"^\d{1,7}(?:[.,]\d{1,2})?$")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def parse_amount(text: str) -> int:
    """Euros typed by a person (`23,50`, `23.5`, `23 €`) to integer cents."""
    cleaned = (text or "").replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    if not _AMOUNT_RE.match(cleaned):
        raise InvalidAmount("not an amount")
    try:
        cents = int(Decimal(cleaned.replace(",", ".")) * 100)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise InvalidAmount("not an amount") from exc
    return check_amount(cents)


def check_amount(cents: int) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise InvalidAmount("amount must be integer cents")
    if cents < 0 or cents > MAX_AMOUNT_CENTS:
        raise InvalidAmount("amount out of range", max_cents=MAX_AMOUNT_CENTS)
    return cents


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise InvalidIdempotencyKey("idempotency key must be 16-64 characters [A-Za-z0-9_-]")
    return key


@dataclass(frozen=True)
class CreditRules:
    points_per_euro: int = 1
    cooldown_minutes: int = 10


@dataclass(frozen=True)
class CreditResult:
    visit_id: int
    customer_id: int
    card_number: str
    shop_id: int
    amount_cents: int
    points: int
    visited_at: datetime
    replayed: bool


def _fingerprint(card_id: int, shop_id: int, amount_cents: int) -> str:
    return hashlib.sha256(f"{card_id}|{shop_id}|{amount_cents}".encode()).hexdigest()


# The hot path runs Core statements built once, with bound parameters (no ORM unit of
# work, no identity map, no per-call statement building or cache-key computation): a
# credit is a handful of small statements and must stay cheap under load.
_VISITS = Visit.__table__
_CARDS = Card.__table__

_LOCK_CARD = select(_CARDS.c.id).where(_CARDS.c.id == bindparam("card_id")).with_for_update()
_VISIT_BY_KEY = select(_VISITS).where(_VISITS.c.idempotency_key == bindparam("key"))
_LAST_VISIT_SINCE = select(func.max(_VISITS.c.visited_at)).where(
    _VISITS.c.card_id == bindparam("card_id"),
    _VISITS.c.shop_id == bindparam("shop_id"),
    _VISITS.c.voided_at.is_(None),
    _VISITS.c.visited_at > bindparam("since"),
)
# Plain SQL understood alike by PostgreSQL and SQLite (>= 3.35): the dialects' own
# on-conflict constructs are compiled anew on every call, this one once.
_INSERT_VISIT = (
    text(
        "INSERT INTO visit (customer_id, card_id, shop_id, amount_cents, points, visited_at, source,"
        " credited_by_id, idempotency_key, request_fingerprint, created_at)"
        " VALUES (:customer_id, :card_id, :shop_id, :amount_cents, :points, :visited_at, :source,"
        " :credited_by_id, :idempotency_key, :request_fingerprint, :created_at)"
        " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    )
    .bindparams(bindparam("visited_at", type_=UTCDateTime()), bindparam("created_at", type_=UTCDateTime()))
    .columns(id=Integer)
)
_INSERT_POINTS = insert(PointsEntry.__table__)


def _replay(session: Session, key: str, fingerprint: str, card_number: str) -> CreditResult | None:
    row = session.connection().execute(_VISIT_BY_KEY, {"key": key}).first()
    if row is None:
        return None
    if row.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused("idempotency key already used for another request")
    return CreditResult(
        visit_id=row.id,
        customer_id=row.customer_id,
        card_number=card_number,
        shop_id=row.shop_id,
        amount_cents=row.amount_cents,
        points=row.points,
        visited_at=row.visited_at,
        replayed=True,
    )


def credit_visit(
    session: Session,
    *,
    card: Card,
    shop_id: int,
    amount_cents: int,
    idempotency_key: str,
    now: datetime,
    rules: CreditRules,
    credited_by_id: int | None = None,
    source: str = "counter",
) -> CreditResult:
    """Credit one visit of `card` at `shop_id`, exactly once per idempotency key."""
    check_amount(amount_cents)
    check_idempotency_key(idempotency_key)
    fingerprint = _fingerprint(card.id, shop_id, amount_cents)

    connection = session.connection()
    connection.execute(_LOCK_CARD, {"card_id": card.id})
    replay = _replay(session, idempotency_key, fingerprint, card.number)
    if replay is not None:
        return replay

    since = now - timedelta(minutes=rules.cooldown_minutes)
    last = connection.execute(_LAST_VISIT_SINCE, {"card_id": card.id, "shop_id": shop_id, "since": since}).scalar()
    if last is not None:
        raise CooldownActive(last, last + timedelta(minutes=rules.cooldown_minutes))

    points = points_for(amount_cents, rules.points_per_euro)
    visit_id = connection.execute(
        _INSERT_VISIT,
        {
            "customer_id": card.customer_id,
            "card_id": card.id,
            "shop_id": shop_id,
            "amount_cents": amount_cents,
            "points": points,
            "visited_at": now,
            "source": source,
            "credited_by_id": credited_by_id,
            "idempotency_key": idempotency_key,
            "request_fingerprint": fingerprint,
            "created_at": now,
        },
    ).scalar()
    if visit_id is None:
        # The key arrived meanwhile through another card's lock: replay or refuse.
        replay = _replay(session, idempotency_key, fingerprint, card.number)
        if replay is None:
            raise IdempotencyKeyInFlight("same key in flight")
        return replay
    if points:
        connection.execute(
            _INSERT_POINTS,
            {
                "customer_id": card.customer_id,
                "visit_id": visit_id,
                "kind": "earned",
                "points": points,
                "created_at": now,
            },
        )
    return CreditResult(
        visit_id=visit_id,
        customer_id=card.customer_id,
        card_number=card.number,
        shop_id=shop_id,
        amount_cents=amount_cents,
        points=points,
        visited_at=now,
        replayed=False,
    )


def void_visit(session: Session, *, visit_id: int, shop_id: int, by_id: int, now: datetime) -> Visit:
    """Mark a visit of the shop void and take back its points. Nothing is deleted."""
    visit = session.scalar(select(Visit).where(Visit.id == visit_id, Visit.shop_id == shop_id).with_for_update())
    if visit is None:
        raise VisitNotFound()
    if visit.voided_at is not None:
        raise AlreadyVoided()
    session.execute(update(Visit).where(Visit.id == visit.id).values(voided_at=now, voided_by_id=by_id))
    if visit.points:
        session.add(
            PointsEntry(
                customer_id=visit.customer_id,
                visit_id=visit.id,
                kind="adjusted",
                points=-visit.points,
                created_at=now,
            )
        )
    session.flush()
    session.refresh(visit)
    return visit


def local_day_bounds(day_of: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (UTC-aware) of the local calendar day containing `day_of`."""
    zone = ZoneInfo(timezone)
    local = day_of.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def shop_visits_between(session: Session, shop_id: int, start: datetime, end: datetime):
    """A shop's visits in a time range, newest first, with the customer's first name."""
    return session.execute(
        select(Visit, Customer.first_name, Card.number)
        .join(Customer, Customer.id == Visit.customer_id)
        .outerjoin(Card, Card.id == Visit.card_id)
        .where(Visit.shop_id == shop_id, Visit.visited_at >= start, Visit.visited_at < end)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
    ).all()


def last_visit_at_shop(session: Session, customer_id: int, shop_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(Visit.visited_at)).where(
            Visit.customer_id == customer_id, Visit.shop_id == shop_id, Visit.voided_at.is_(None)
        )
    )


def customer_visits(session: Session, customer_id: int, limit: int = 50):
    """A customer's latest visits across shops, with the shop's name."""
    return session.execute(
        select(Visit, Shop.name)
        .outerjoin(Shop, Shop.id == Visit.shop_id)
        .where(Visit.customer_id == customer_id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(limit)
    ).all()
