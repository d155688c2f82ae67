"""The shared customer file: search, the 360° view of one person, prospects, exports.

Search detects the kind of query and answers from an indexed column:

- 12 digits (spaces, dots or dashes allowed)  -> card number (unique index on card.number);
- contains "@"                               -> e-mail prefix (range scan on the e-mail index);
- 5 digits                                   -> postcode (index);
- digits with + ( ) . - and spaces           -> phone, normalised to E.164 (index);
- anything else                              -> prefix of first or last name, case- and
  accent-insensitive: a range scan on the folded names' indexes (see `_name_condition`).

A page counts and sorts at most COUNT_CAP + 1 matches (see `_page_ids`); exports hold all.
Erased people and people merged into another record are never listed. With `shop_id`
(a merchant), only people with a non-void visit at that shop are found.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, false, func, or_, select, true, union
from sqlalchemy.orm import Session, aliased

from webapp.domain import audit, exports
from webapp.domain.accounts import InvalidPhone, normalise_phone
from webapp.domain.cards import normalise_number
from webapp.domain.consent import consent_history, current_consents
from webapp.domain.errors import DomainError
from webapp.domain.names import normalise_name
from webapp.domain.points import balance
from webapp.domain.rfm import latest_snapshot
from webapp.models import (
    AuditEntry,
    Campaign,
    CampaignRecipient,
    Card,
    Consent,
    Contest,
    ContestEntry,
    Customer,
    RfmScore,
    RfmSnapshot,
    Shop,
    Visit,
)

MAX_PER_PAGE = 100
COUNT_CAP = 1000
TIMELINE_LIMIT = 100
MERGE_ACTION = "merge_people"
UNDO_ACTION = "undo_merge"

_PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{6,24}$")
_DIGITS_RE = re.compile(r"^\d+$")


class PersonNotFound(DomainError):
    code = "person_not_found"


def _name_prefix(column, prefix: str):
    """`column` (a folded name) starts with `prefix` (folded): a range scan on the column's index."""
    return and_(column >= prefix, column < _successor(prefix))


def _name_condition(query: str):
    """Every word starts the first or the last name (in any order), or the whole query starts one of them
    (compound names: "de la fontaine"). Names are compared folded (domain/names.py): case, accents and
    ligatures do not matter. The first word's two ranges find the candidates through the indexes on
    first_name_folded and last_name_folded; the other words only filter them."""

    def either(prefix):
        return or_(_name_prefix(Customer.last_name_folded, prefix), _name_prefix(Customer.first_name_folded, prefix))

    tokens = query.split(" ")
    if len(tokens) == 1:
        return either(query)
    return and_(either(tokens[0]), or_(and_(*(either(token) for token in tokens[1:])), either(query)))


def _successor(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (code point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class ParsedQuery:
    kind: str  # all | card | email | postcode | phone | name
    value: str
    valid: bool = True


def parse_query(text: str) -> ParsedQuery:
    """What the person typed, and which column answers it."""
    query = " ".join((text or "").split())
    if not query:
        return ParsedQuery("all", "")
    if "@" in query:
        return ParsedQuery("email", query.lower())
    compact = normalise_number(query)
    if _DIGITS_RE.match(compact) and len(compact) == 12 and not query.startswith("+"):
        return ParsedQuery("card", compact)
    if _DIGITS_RE.match(query) and len(query) == 5:
        return ParsedQuery("postcode", query)
    if _PHONE_RE.match(query) and any(c.isdigit() for c in query):
        try:
            return ParsedQuery("phone", normalise_phone(query))
        except InvalidPhone:
            return ParsedQuery("phone", query, valid=False)
    name = normalise_name(query)
    return ParsedQuery("name", name, valid=bool(name))


def visited_shop(shop_id: int):
    """SQL condition: the customer has a non-void visit at the shop (partial index ix_visit_rfm_shop)."""
    return exists().where(Visit.shop_id == shop_id, Visit.customer_id == Customer.id, Visit.voided_at.is_(None))


def _listable():
    return and_(Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))


def _conditions(parsed: ParsedQuery, shop_id: int | None) -> list:
    """The WHERE terms, cheapest first (the shop's visits are probed only for rows that match)."""
    conditions = [_listable()]
    if not parsed.valid:
        conditions.append(false())
    elif parsed.kind == "card":
        conditions.append(Customer.id.in_(select(Card.customer_id).where(Card.number == parsed.value)))
    elif parsed.kind == "email":
        conditions += [Customer.email >= parsed.value, Customer.email < _successor(parsed.value)]
    elif parsed.kind == "postcode":
        conditions.append(Customer.postcode == parsed.value)
    elif parsed.kind == "phone":
        conditions.append(Customer.phone == parsed.value)
    elif parsed.kind == "name":
        conditions.append(_name_condition(parsed.value))
    if shop_id is not None:
        conditions.append(visited_shop(shop_id))
    return conditions


def _current_card():
    return (
        select(Card.number)
        .where(Card.customer_id == Customer.id, Card.status == "active")
        .order_by(Card.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _person_columns():
    return (
        Customer.id,
        Customer.first_name,
        Customer.last_name,
        Customer.email,
        Customer.phone,
        Customer.postcode,
        Customer.source,
        Customer.created_at,
        _current_card().label("card_number"),
    )


def _page_ids(session: Session, conditions: list, *, by_name: bool, page: int, per_page: int):
    """The ids of one page and the number of matches, in one statement that scans at most once.

    Only the COUNT_CAP + 1 newest matches are considered (a scan by primary key stops
    there); they are counted and sorted (by name, or newest first) in the same statement.
    Past the cap the page says "more than COUNT_CAP": refine the search (exports hold all).
    """
    matches = (
        select(Customer.id, Customer.last_name, Customer.first_name)
        .where(*conditions)
        .order_by(Customer.id.desc())
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    order = (matches.c.last_name, matches.c.first_name, matches.c.id) if by_name else (matches.c.id.desc(),)
    found = session.execute(
        select(matches.c.id, func.count().over()).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    if found:
        return [row[0] for row in found], found[0][1]
    return [], (session.scalar(select(func.count()).select_from(matches)) if page > 1 else 0)


def _rows_of(session: Session, ids: list[int]) -> list:
    """The listed columns of these people, in the order of `ids` (one indexed query for the page only)."""
    if not ids:
        return []
    rows = session.execute(select(*_person_columns()).where(Customer.id.in_(ids))).all()
    position = {customer_id: index for index, customer_id in enumerate(ids)}
    return sorted(rows, key=lambda row: position[row.id])


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int
    kind: str = "all"
    valid: bool = True
    cap: int = COUNT_CAP

    @property
    def capped(self) -> bool:
        return self.total > self.cap

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _clamp(page: int, per_page: int) -> tuple[int, int]:
    per_page = min(MAX_PER_PAGE, max(1, int(per_page or 25)))
    last = -(-(COUNT_CAP + 1) // per_page)
    return min(last, max(1, int(page or 1))), per_page


def search(session: Session, query: str, *, shop_id: int | None = None, page: int = 1, per_page: int = 25) -> Page:
    """One page of people matching `query` (see the module docstring), and the total (capped)."""
    page, per_page = _clamp(page, per_page)
    parsed = parse_query(query)
    if not parsed.valid:
        return Page(rows=[], total=0, page=1, per_page=per_page, kind=parsed.kind, valid=False)
    conditions = _conditions(parsed, shop_id)
    ids, total = _page_ids(session, conditions, by_name=parsed.kind == "name", page=page, per_page=per_page)
    return Page(_rows_of(session, ids), total, page, per_page, kind=parsed.kind, cap=COUNT_CAP)


def _export_rows(session: Session, statement) -> Iterator[tuple]:
    for row in session.execute(statement.execution_options(yield_per=2000)):
        yield (
            row.id,
            row.first_name or "",
            row.last_name or "",
            row.email or "",
            row.phone or "",
            row.postcode or "",
            row.card_number or "",
            row.source,
            row.created_at.date() if row.created_at else None,
        )


def export_search(
    session: Session,
    query: str,
    *,
    fmt: str,
    header: list[str],
    shop_id: int | None,
    by_id: int | None,
    now: datetime,
) -> tuple[bytes, int]:
    """Every person matching `query` as CSV or XLSX, recorded in the audit log."""
    parsed = parse_query(query)
    order = (Customer.last_name, Customer.first_name, Customer.id) if parsed.kind == "name" else (Customer.id.desc(),)
    conditions = _conditions(parsed, shop_id) if parsed.valid else [false()]
    statement = select(*_person_columns()).where(*conditions).order_by(*order)
    data, count = exports.export(fmt, header, _export_rows(session, statement), title="Clients")
    detail = {"shop_id": shop_id} if shop_id is not None else {}
    audit.record(
        session,
        account_id=by_id,
        action="export",
        now=now,
        list="customers",
        query=query or "",
        rows=count,
        format=fmt,
        **detail,
    )
    return data, count


# Prospects: people who never had a card (imported contacts, contest entrants).


def _prospect_conditions(source: str | None) -> list:
    conditions = [_listable(), ~exists().where(Card.customer_id == Customer.id)]
    if source:
        conditions.append(Customer.source == source)
    return conditions


def prospect_sources(session: Session) -> list[tuple[str, int]]:
    return session.execute(
        select(Customer.source, func.count(Customer.id))
        .where(*_prospect_conditions(None))
        .group_by(Customer.source)
        .order_by(Customer.source)
    ).all()


def prospects(session: Session, *, source: str | None = None, page: int = 1, per_page: int = 25) -> Page:
    page, per_page = _clamp(page, per_page)
    conditions = _prospect_conditions(source)
    ids, total = _page_ids(session, conditions, by_name=False, page=page, per_page=per_page)
    return Page(_rows_of(session, ids), total, page, per_page, kind="prospects", cap=COUNT_CAP)


def export_prospects(
    session: Session, *, source: str | None, fmt: str, header: list[str], by_id: int | None, now: datetime
) -> tuple[bytes, int]:
    statement = select(*_person_columns()).where(*_prospect_conditions(source)).order_by(Customer.id.desc())
    data, count = exports.export(fmt, header, _export_rows(session, statement), title="Prospects")
    audit.record(
        session,
        account_id=by_id,
        action="export",
        now=now,
        list="prospects",
        source=source or "",
        rows=count,
        format=fmt,
    )
    return data, count


# The 360° view.


@dataclass
class MergeRecord:
    entry: AuditEntry
    absorbed: Customer | None
    undone_at: datetime | None


@dataclass
class Overview:
    customer: Customer
    survivor: Customer | None
    consents: dict[str, bool]
    consent_history: list[Consent]
    cards: list[Card]
    visits: list
    more_visits: bool
    points: int
    rfm_union: tuple[RfmSnapshot, RfmScore | None] | None
    rfm_shop: tuple[RfmSnapshot, RfmScore | None] | None
    merges: list[MergeRecord]
    absorbed: list[Customer]
    entries: list = field(default_factory=list)  # (entry, contest title), newest first: the office only
    mailings: list = field(default_factory=list)  # (recipient row, campaign), newest first: the office only


def _rfm(session: Session, customer_id: int, shop_id: int | None):
    snapshot = latest_snapshot(session, shop_id)
    if snapshot is None:
        return None
    return snapshot, session.get(RfmScore, (snapshot.id, customer_id))


def _timeline(session: Session, customer_id: int, shop_id: int | None) -> list:
    """The person's latest visits, newest first, through indexes only.

    The visit table has no plain index on customer_id: valid visits come from the partial
    RFM index (voided_at IS NULL), and voided ones through the person's cards. A voided
    visit without a card (imported, then voided) is therefore not listed.
    """
    valid = select(Visit.id).where(Visit.customer_id == customer_id, Visit.voided_at.is_(None))
    carded = select(Visit.id).where(Visit.card_id.in_(select(Card.id).where(Card.customer_id == customer_id)))
    if shop_id is not None:
        valid, carded = valid.where(Visit.shop_id == shop_id), carded.where(Visit.shop_id == shop_id)
    ids = union(valid, carded).subquery()
    return session.execute(
        select(Visit, Shop.name, Card.number)
        .join(ids, ids.c.id == Visit.id)
        .outerjoin(Shop, Shop.id == Visit.shop_id)
        .outerjoin(Card, Card.id == Visit.card_id)
        .where(Visit.customer_id == customer_id)
        .order_by(Visit.visited_at.desc(), Visit.id.desc())
        .limit(TIMELINE_LIMIT + 1)
    ).all()


def _merges(session: Session, customer_id: int) -> list[MergeRecord]:
    """The merges into this person (newest first), each with its undo time if undone."""
    undo = aliased(AuditEntry)
    undone_at = (
        select(func.min(undo.at))
        .where(undo.action == UNDO_ACTION, undo.object_type == "audit_entry", undo.object_id == AuditEntry.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(AuditEntry, undone_at)
        .where(
            AuditEntry.object_type == "customer",
            AuditEntry.object_id == customer_id,
            AuditEntry.action == MERGE_ACTION,
        )
        .order_by(AuditEntry.id.desc())
    ).all()
    records = []
    for entry, when in rows:
        absorbed_id = (entry.detail or {}).get("absorbed_id")
        absorbed = session.get(Customer, absorbed_id) if absorbed_id else None
        records.append(MergeRecord(entry=entry, absorbed=absorbed, undone_at=when))
    return records


def can_see(session: Session, customer_id: int, shop_id: int | None) -> bool:
    """Whether a viewer limited to `shop_id` (None: the whole file) may see this person."""
    if shop_id is None:
        return True
    return bool(
        session.scalar(
            select(true())
            .where(Visit.shop_id == shop_id, Visit.customer_id == customer_id, Visit.voided_at.is_(None))
            .limit(1)
        )
    )


def view_person(session: Session, customer_id: int, *, viewer_id: int, shop_id: int | None, now: datetime) -> Overview:
    """Everything about one person, for the 360° page; the look is recorded in the audit log.

    A viewer limited to a shop (a merchant) sees only people who visited that shop,
    only that shop's visits, and the shop's RFM scores beside the union's.
    """
    customer = session.get(Customer, customer_id)
    if customer is None or not can_see(session, customer_id, shop_id):
        raise PersonNotFound()
    detail = {"shop_id": shop_id} if shop_id is not None else {}
    audit.record(
        session,
        account_id=viewer_id,
        action="view_person",
        now=now,
        object_type="customer",
        object_id=customer_id,
        **detail,
    )
    visits = _timeline(session, customer_id, shop_id)
    office = shop_id is None
    merges = _merges(session, customer_id) if office else []
    return Overview(
        customer=customer,
        survivor=session.get(Customer, customer.merged_into_id) if customer.merged_into_id else None,
        consents=current_consents(session, customer_id),
        consent_history=consent_history(session, customer_id),
        cards=list(session.scalars(select(Card).where(Card.customer_id == customer_id).order_by(Card.id.desc()))),
        visits=visits[:TIMELINE_LIMIT],
        more_visits=len(visits) > TIMELINE_LIMIT,
        points=balance(session, customer_id),
        rfm_union=_rfm(session, customer_id, None),
        rfm_shop=None if office else _rfm(session, customer_id, shop_id),
        merges=merges,
        # From the audit log (indexed), not from customer.merged_into_id (not indexed).
        absorbed=[record.absorbed for record in merges if record.undone_at is None and record.absorbed is not None],
        entries=_entries(session, customer_id) if office else [],
        mailings=_mailings(session, customer_id) if office else [],
    )


def _entries(session: Session, customer_id: int) -> list:
    return session.execute(
        select(ContestEntry, Contest.title)
        .join(Contest, Contest.id == ContestEntry.contest_id)
        .where(ContestEntry.customer_id == customer_id)
        .order_by(ContestEntry.created_at.desc())
        .limit(TIMELINE_LIMIT)
    ).all()


def _mailings(session: Session, customer_id: int) -> list:
    return session.execute(
        select(CampaignRecipient, Campaign)
        .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
        .where(CampaignRecipient.customer_id == customer_id)
        .order_by(Campaign.started_at.desc())
        .limit(TIMELINE_LIMIT)
    ).all()
