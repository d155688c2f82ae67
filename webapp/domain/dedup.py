"""Duplicates in the shared file: merging two records of one person, undoing a merge, the review queue.

A merge re-points every row of the absorbed person to the survivor (visits, points
entries, consents, cards, references, review items, the login account if the survivor
has none, and people merged earlier into the absorbed one), fills the survivor's empty
identity fields from the absorbed record, and marks the absorbed row `merged_into_id`:
nothing is deleted. The audit entry lists the id of every moved row per table and the
filled fields, so that `undo_merge` can put exactly those rows back.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from webapp.domain import audit
from webapp.domain.cards import normalise_number
from webapp.domain.errors import DomainError
from webapp.domain.people import MERGE_ACTION, UNDO_ACTION, Page, PersonNotFound, _clamp
from webapp.models import (
    Account,
    AuditEntry,
    Card,
    Consent,
    Customer,
    CustomerReference,
    ImportBatch,
    PointsEntry,
    ReviewItem,
    Visit,
)

IDENTITY_FIELDS = ("first_name", "last_name", "email", "phone", "postcode", "reference", "street", "town")
_CHUNK = 500


class MergeRefused(DomainError):
    """reason: same_person, survivor_erased, survivor_merged, absorbed_erased, absorbed_merged, two_accounts."""

    code = "merge_refused"

    def __init__(self, reason: str):
        super().__init__(reason, reason=reason)
        self.reason = reason


class UndoRefused(DomainError):
    """reason: not_a_merge, already_undone, survivor_changed, absorbed_changed, rows_changed."""

    code = "undo_refused"

    def __init__(self, reason: str):
        super().__init__(reason, reason=reason)
        self.reason = reason


class ReviewItemNotFound(DomainError):
    code = "review_item_not_found"


class ReviewAlreadyResolved(DomainError):
    code = "review_already_resolved"


def _moves(survivor_id: int, absorbed_id: int):
    """(key, table, column, extra conditions) of every row that follows the absorbed person."""
    review = ReviewItem.__table__
    return (
        ("visit", Visit.__table__, "customer_id", ()),
        ("points_entry", PointsEntry.__table__, "customer_id", ()),
        ("consent", Consent.__table__, "customer_id", ()),
        ("card", Card.__table__, "customer_id", ()),
        ("customer_reference", CustomerReference.__table__, "customer_id", ()),
        # An item pairing the two records documents this very merge: it keeps its pair.
        ("review_item.customer_id", review, "customer_id", (review.c.candidate_id != survivor_id,)),
        ("review_item.candidate_id", review, "candidate_id", (review.c.customer_id != survivor_id,)),
        ("account", Account.__table__, "customer_id", ()),
        ("customer.merged_into_id", Customer.__table__, "merged_into_id", ()),
    )


def resolve_person_ref(session: Session, text: str) -> int:
    """A person typed as a record number (`123`, `#123`) or a card number (12 digits)."""
    value = re.sub(r"^(#|n°|no)\s*", "", (text or "").strip(), flags=re.IGNORECASE)
    compact = normalise_number(value)
    if not compact.isdigit() or not compact.isascii():
        raise PersonNotFound()
    if len(compact) == 12:
        customer_id = session.scalar(select(Card.customer_id).where(Card.number == compact))
    else:
        customer_id = session.scalar(select(Customer.id).where(Customer.id == int(compact)))
    if customer_id is None:
        raise PersonNotFound()
    return customer_id


def _lock_people(session: Session, *ids: int) -> dict[int, Customer]:
    rows = session.scalars(
        select(Customer)
        .where(Customer.id.in_(ids))
        .order_by(Customer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def merge_people(
    session: Session,
    survivor_id: int,
    absorbed_id: int,
    *,
    by_id: int | None,
    now: datetime,
    review_item_id: int | None = None,
) -> AuditEntry:
    """Merge the absorbed person into the survivor; returns the audit entry that allows undoing it."""
    if survivor_id == absorbed_id:
        raise MergeRefused("same_person")
    people = _lock_people(session, survivor_id, absorbed_id)
    survivor, absorbed = people.get(survivor_id), people.get(absorbed_id)
    if survivor is None or absorbed is None:
        raise PersonNotFound()
    if survivor.erased_at is not None:
        raise MergeRefused("survivor_erased")
    if survivor.merged_into_id is not None:
        raise MergeRefused("survivor_merged")
    if absorbed.erased_at is not None:
        raise MergeRefused("absorbed_erased")
    if absorbed.merged_into_id is not None:
        raise MergeRefused("absorbed_merged")
    with_account = session.scalars(
        select(Account.customer_id).where(Account.customer_id.in_((survivor_id, absorbed_id)))
    ).all()
    if len(with_account) == 2:
        raise MergeRefused("two_accounts")
    # Cards first, as crediting does: a concurrent credit on the absorbed card waits for us.
    session.execute(select(Card.id).where(Card.customer_id == absorbed_id).with_for_update())

    filled = {}
    for name in IDENTITY_FIELDS:
        if not getattr(survivor, name) and getattr(absorbed, name):
            filled[name] = getattr(absorbed, name)
    for name, value in filled.items():
        setattr(survivor, name, value)
    session.flush()

    moved: dict[str, list[int]] = {}
    for key, table, column, extra in _moves(survivor_id, absorbed_id):
        ids = session.execute(
            update(table)
            .where(table.c[column] == absorbed_id, *extra)
            .values({column: survivor_id})
            .returning(table.c.id)
        ).scalars()
        ids = sorted(ids)
        if ids:
            moved[key] = ids
    absorbed.merged_into_id = survivor_id
    session.flush()
    session.expire_all()

    detail = {"survivor_id": survivor_id, "absorbed_id": absorbed_id, "moved": moved, "filled": filled}
    if review_item_id is not None:
        detail["review_item_id"] = review_item_id
    return audit.record(
        session,
        account_id=by_id,
        action=MERGE_ACTION,
        now=now,
        object_type="customer",
        object_id=survivor_id,
        **detail,
    )


def undo_of(session: Session, entry_id: int) -> AuditEntry | None:
    return session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == UNDO_ACTION, AuditEntry.object_type == "audit_entry", AuditEntry.object_id == entry_id
        )
        .limit(1)
    )


def undo_merge(session: Session, audit_entry_id: int, *, by_id: int | None, now: datetime) -> AuditEntry:
    """Put back exactly the rows a merge moved, unfill the fields it filled, and revive the absorbed person.

    Refused, with nothing changed, when the survivor was merged or erased since, or when
    any moved row no longer belongs to the survivor (the caller rolls back).
    """
    entry = session.scalar(select(AuditEntry).where(AuditEntry.id == audit_entry_id).with_for_update())
    if entry is None or entry.action != MERGE_ACTION or not entry.detail:
        raise UndoRefused("not_a_merge")
    if undo_of(session, entry.id) is not None:
        raise UndoRefused("already_undone")
    detail = entry.detail
    survivor_id, absorbed_id = detail["survivor_id"], detail["absorbed_id"]
    people = _lock_people(session, survivor_id, absorbed_id)
    survivor, absorbed = people.get(survivor_id), people.get(absorbed_id)
    if survivor is None or survivor.erased_at is not None or survivor.merged_into_id is not None:
        raise UndoRefused("survivor_changed")
    if absorbed is None or absorbed.merged_into_id != survivor_id:
        raise UndoRefused("absorbed_changed")

    moved = detail.get("moved") or {}
    for key, table, column, _extra in _moves(survivor_id, absorbed_id):
        ids = moved.get(key) or []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            result = session.execute(
                update(table).where(table.c.id.in_(chunk), table.c[column] == survivor_id).values({column: absorbed_id})
            )
            if result.rowcount != len(chunk):
                raise UndoRefused("rows_changed")

    session.expire_all()
    survivor, absorbed = session.get(Customer, survivor_id), session.get(Customer, absorbed_id)
    unfilled, kept = [], []
    for name, value in (detail.get("filled") or {}).items():
        if getattr(survivor, name) == value:
            setattr(survivor, name, None)
            unfilled.append(name)
        else:
            kept.append(name)
    absorbed.merged_into_id = None

    reopened = None
    review_item_id = detail.get("review_item_id")
    if review_item_id is not None:
        item = session.get(ReviewItem, review_item_id)
        if item is not None and item.status == "merged":
            item.status, item.resolved_by_id, item.resolved_at = "pending", None, None
            reopened = item.id
    session.flush()
    return audit.record(
        session,
        account_id=by_id,
        action=UNDO_ACTION,
        now=now,
        object_type="audit_entry",
        object_id=entry.id,
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        unfilled=unfilled,
        kept=kept,
        review_item_reopened=reopened,
    )


# The review queue of probable matches found by imports.


def pending_reviews(session: Session, *, page: int = 1, per_page: int = 25) -> Page:
    """Pending items, oldest first, each with both people and the import it came from."""
    page, per_page = _clamp(page, per_page)
    first, second = aliased(Customer), aliased(Customer)
    condition = ReviewItem.status == "pending"
    total = session.scalar(select(func.count(ReviewItem.id)).where(condition))
    rows = []
    if total:
        rows = session.execute(
            select(ReviewItem, first, second, ImportBatch.filename)
            .join(first, first.id == ReviewItem.customer_id)
            .join(second, second.id == ReviewItem.candidate_id)
            .outerjoin(ImportBatch, ImportBatch.id == ReviewItem.batch_id)
            .where(condition)
            .order_by(ReviewItem.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
    return Page(rows=rows, total=total, page=page, per_page=per_page, kind="review")


def _live(session: Session, customer_id: int) -> Customer:
    """The record that now stands for this person (following earlier merges)."""
    customer = session.get(Customer, customer_id)
    for _ in range(50):
        if customer is None or customer.merged_into_id is None:
            break
        customer = session.get(Customer, customer.merged_into_id)
    if customer is None:
        raise PersonNotFound()
    return customer


@dataclass(frozen=True)
class Resolution:
    item: ReviewItem
    merge: AuditEntry | None


def resolve_review(session: Session, item_id: int, *, same: bool, by_id: int | None, now: datetime) -> Resolution:
    """Same person: merge the newer record into the older one (status `merged`); else status `separate`."""
    item = session.scalar(select(ReviewItem).where(ReviewItem.id == item_id).with_for_update())
    if item is None:
        raise ReviewItemNotFound()
    if item.status != "pending":
        raise ReviewAlreadyResolved()
    merge = None
    if same:
        one, other = _live(session, item.customer_id), _live(session, item.candidate_id)
        if one.id != other.id:
            survivor, absorbed = sorted((one, other), key=lambda person: (person.created_at, person.id))
            merge = merge_people(session, survivor.id, absorbed.id, by_id=by_id, now=now, review_item_id=item.id)
            item = session.get(ReviewItem, item_id)
    item.status = "merged" if same else "separate"
    item.resolved_by_id = by_id
    item.resolved_at = now
    session.flush()
    return Resolution(item=item, merge=merge)
