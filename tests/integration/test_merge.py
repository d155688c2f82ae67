"""Merging two records of one person keeps every row, and undoing the merge restores exactly what was there."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from webapp.domain import consent, dedup, people
from webapp.domain.errors import DomainError
from webapp.extensions import db
from webapp.models import (
    Account,
    AuditEntry,
    Card,
    Consent,
    Customer,
    CustomerReference,
    PointsEntry,
    ReviewItem,
    Visit,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORDINGS = {"email": "E-mails de l'union", "sms": "SMS de l'union", "post": "Courriers de l'union"}

TABLES = {
    Visit: ("id", "customer_id", "card_id", "shop_id", "amount_cents", "voided_at"),
    PointsEntry: ("id", "customer_id", "visit_id", "points"),
    Consent: ("id", "customer_id", "channel", "granted"),
    Card: ("id", "customer_id", "number", "status"),
    CustomerReference: ("id", "customer_id", "shop_id", "reference"),
    ReviewItem: ("id", "customer_id", "candidate_id", "status", "resolved_by_id", "resolved_at"),
    Account: ("id", "customer_id", "email"),
    Customer: ("id", "first_name", "last_name", "email", "phone", "postcode", "reference", "merged_into_id"),
}


def state():
    """Every row of every table a merge touches, as plain tuples."""
    db.session.expire_all()
    return {
        model.__tablename__: db.session.execute(
            select(*(getattr(model, column) for column in columns)).order_by(model.id)
        ).all()
        for model, columns in TABLES.items()
    }


def owned_by(customer_id):
    db.session.expire_all()
    return {
        "visits": db.session.scalars(select(Visit.id).where(Visit.customer_id == customer_id)).all(),
        "points": db.session.scalars(select(PointsEntry.id).where(PointsEntry.customer_id == customer_id)).all(),
        "consents": db.session.scalars(select(Consent.id).where(Consent.customer_id == customer_id)).all(),
        "cards": db.session.scalars(select(Card.id).where(Card.customer_id == customer_id)).all(),
        "references": db.session.scalars(
            select(CustomerReference.id).where(CustomerReference.customer_id == customer_id)
        ).all(),
    }


@pytest.fixture
def family(make, now):
    """A survivor and a record of the same person with a full history, plus their surroundings."""
    make.union()
    shop_a, shop_b = make.shop(), make.shop()
    survivor = make.customer(first_name="Camille", last_name=None, email="camille@example.org", phone=None)
    absorbed = make.customer(
        first_name="Camille",
        last_name="Roux",
        email="c.roux@example.org",
        phone="+33611223344",
        postcode="69001",
        reference="CLI-0042",
        source="import",
    )
    third = make.customer(first_name="Camila", last_name="Rousse")
    earlier = make.customer(first_name="Cam", merged_into_id=absorbed.id)  # merged into the absorbed one before
    card_s, card_a = make.card(survivor), make.card(absorbed)
    make.visit(card_s, shop_a, 1200, AT)
    make.visit(card_a, shop_a, 2500, AT + timedelta(days=1))
    make.visit(card_a, shop_b, 990, AT + timedelta(days=2))
    voided = make.visit(card_a, shop_b, 4000, AT + timedelta(days=3))
    voided.voided_at = AT + timedelta(days=3, minutes=2)
    db.session.add(
        Visit(
            customer_id=absorbed.id,
            shop_id=None,
            amount_cents=1500,
            visited_at=AT - timedelta(days=90),
            source="import",
        )
    )
    db.session.add(PointsEntry(customer_id=absorbed.id, kind="adjusted", points=-5, created_at=AT))
    for person, wanted in ((survivor, {"email": True}), (absorbed, {"email": False, "sms": True, "post": True})):
        consent.record_consents(
            db.session, person.id, wanted, method="import", wordings=WORDINGS, now=AT, record_unchanged=True
        )
    db.session.add_all(
        [
            CustomerReference(customer_id=absorbed.id, shop_id=shop_a.id, reference="A-17"),
            CustomerReference(customer_id=absorbed.id, shop_id=None, reference="CLI-0042"),
            CustomerReference(customer_id=survivor.id, shop_id=shop_b.id, reference="B-3"),
            ReviewItem(customer_id=absorbed.id, candidate_id=third.id, score=0.8),
            ReviewItem(customer_id=third.id, candidate_id=absorbed.id, score=0.7),
            ReviewItem(customer_id=absorbed.id, candidate_id=survivor.id, score=0.95),
        ]
    )
    account = make.shopper(first_name="Login")  # a login of the absorbed person
    account.customer_id = absorbed.id
    db.session.commit()
    admin = make.staff(role="admin")
    return {
        "survivor": survivor,
        "absorbed": absorbed,
        "third": third,
        "earlier": earlier,
        "account": account,
        "admin": admin,
        "shop_a": shop_a,
    }


def test_merge_keeps_every_row_and_undo_restores_exactly(family, now):
    survivor_id, absorbed_id = family["survivor"].id, family["absorbed"].id
    before = state()
    had = owned_by(absorbed_id)
    kept = owned_by(survivor_id)
    assert len(had["visits"]) == 4 and len(had["cards"]) == 1 and len(had["references"]) == 2

    entry = dedup.merge_people(db.session, survivor_id, absorbed_id, by_id=family["admin"].id, now=now)
    db.session.commit()

    after = state()
    assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
    now_owned = owned_by(survivor_id)
    for key in had:
        assert sorted(now_owned[key]) == sorted(had[key] + kept[key]), key
    assert owned_by(absorbed_id) == {key: [] for key in had}

    survivor, absorbed = db.session.get(Customer, survivor_id), db.session.get(Customer, absorbed_id)
    assert absorbed.merged_into_id == survivor_id and absorbed.email == "c.roux@example.org"  # kept as it was
    assert (survivor.first_name, survivor.email) == ("Camille", "camille@example.org")  # not empty: untouched
    assert (survivor.last_name, survivor.phone, survivor.reference) == ("Roux", "+33611223344", "CLI-0042")
    assert survivor.postcode == "69004"
    assert db.session.get(Customer, family["earlier"].id).merged_into_id == survivor_id
    assert db.session.get(Account, family["account"].id).customer_id == survivor_id

    items = {item.score: item for item in db.session.scalars(select(ReviewItem))}
    assert (items[0.8].customer_id, items[0.8].candidate_id) == (survivor_id, family["third"].id)
    assert (items[0.7].customer_id, items[0.7].candidate_id) == (family["third"].id, survivor_id)
    assert (items[0.95].customer_id, items[0.95].candidate_id) == (absorbed_id, survivor_id)  # documents the pair

    entry = db.session.get(AuditEntry, entry.id)
    assert (entry.action, entry.account_id, entry.object_type, entry.object_id) == (
        "merge_people",
        family["admin"].id,
        "customer",
        survivor_id,
    )
    moved = entry.detail["moved"]
    assert moved["visit"] == sorted(had["visits"]) and moved["card"] == had["cards"]
    assert moved["points_entry"] == sorted(had["points"]) and moved["consent"] == sorted(had["consents"])
    assert moved["customer_reference"] == sorted(had["references"])
    assert moved["account"] == [family["account"].id]
    assert moved["customer.merged_into_id"] == [family["earlier"].id]
    assert len(moved["review_item.customer_id"]) == 1 and len(moved["review_item.candidate_id"]) == 1
    assert entry.detail["filled"] == {"last_name": "Roux", "phone": "+33611223344", "reference": "CLI-0042"}

    # The survivor now answers for the absorbed card and is the only one listed.
    assert [row.id for row in people.search(db.session, "c.roux@").rows] == []
    assert [row.id for row in people.search(db.session, "roux").rows] == [survivor_id]

    undo = dedup.undo_merge(db.session, entry.id, by_id=family["admin"].id, now=now + timedelta(hours=1))
    db.session.commit()
    assert state() == before
    undo = db.session.get(AuditEntry, undo.id)
    assert (undo.action, undo.object_type, undo.object_id) == ("undo_merge", "audit_entry", entry.id)
    assert sorted(undo.detail["unfilled"]) == ["last_name", "phone", "reference"]

    with pytest.raises(dedup.UndoRefused) as refused:
        dedup.undo_merge(db.session, entry.id, by_id=family["admin"].id, now=now)
    assert refused.value.reason == "already_undone"


def test_undo_keeps_a_field_edited_since_the_merge(family, now):
    entry = dedup.merge_people(db.session, family["survivor"].id, family["absorbed"].id, by_id=None, now=now)
    survivor = db.session.get(Customer, family["survivor"].id)
    survivor.phone = "+33699887766"
    db.session.commit()
    undo = dedup.undo_merge(db.session, entry.id, by_id=None, now=now)
    db.session.commit()
    assert db.session.get(Customer, family["survivor"].id).phone == "+33699887766"
    assert undo.detail["kept"] == ["phone"]


def test_undo_refused_when_a_moved_row_changed_hands_and_nothing_is_half_done(family, now, make):
    entry = dedup.merge_people(db.session, family["survivor"].id, family["absorbed"].id, by_id=None, now=now)
    db.session.commit()
    other = make.customer()
    visit = db.session.get(Visit, entry.detail["moved"]["visit"][-1])
    visit.customer_id = other.id
    db.session.commit()
    before = state()
    with pytest.raises(dedup.UndoRefused) as refused:
        dedup.undo_merge(db.session, entry.id, by_id=None, now=now)
    db.session.rollback()
    assert refused.value.reason == "rows_changed"
    assert state() == before


def test_undo_refused_once_the_survivor_was_merged_again(family, now, make):
    entry = dedup.merge_people(db.session, family["survivor"].id, family["absorbed"].id, by_id=None, now=now)
    dedup.merge_people(db.session, family["third"].id, family["survivor"].id, by_id=None, now=now)
    db.session.commit()
    with pytest.raises(dedup.UndoRefused) as refused:
        dedup.undo_merge(db.session, entry.id, by_id=None, now=now)
    assert refused.value.reason == "survivor_changed"


@pytest.mark.parametrize(
    "case,reason",
    [
        ("self", "same_person"),
        ("into_merged", "survivor_merged"),
        ("into_erased", "survivor_erased"),
        ("absorb_merged", "absorbed_merged"),
        ("absorb_erased", "absorbed_erased"),
        ("two_accounts", "two_accounts"),
    ],
)
def test_merge_refusals(family, now, make, case, reason):
    survivor, absorbed = family["survivor"], family["absorbed"]
    pairs = {
        "self": (survivor.id, survivor.id),
        "into_merged": (family["earlier"].id, survivor.id),
        "into_erased": (make.customer(erased_at=now).id, survivor.id),
        "absorb_merged": (survivor.id, family["earlier"].id),
        "absorb_erased": (survivor.id, make.customer(erased_at=now).id),
        "two_accounts": (make.shopper().customer_id, absorbed.id),
    }
    before = state()
    with pytest.raises(dedup.MergeRefused) as refused:
        dedup.merge_people(db.session, *pairs[case], by_id=None, now=now)
    db.session.rollback()
    assert refused.value.reason == reason
    assert state() == before


def test_merge_of_an_unknown_person(family, now):
    with pytest.raises(people.PersonNotFound):
        dedup.merge_people(db.session, family["survivor"].id, 999_999, by_id=None, now=now)


def test_person_reference_by_id_or_card(family):
    card = db.session.scalar(select(Card).where(Card.customer_id == family["absorbed"].id))
    assert dedup.resolve_person_ref(db.session, card.number) == family["absorbed"].id
    assert dedup.resolve_person_ref(db.session, f"{card.number[:4]} {card.number[4:8]} {card.number[8:]}") == (
        family["absorbed"].id
    )
    assert dedup.resolve_person_ref(db.session, f"#{family['third'].id}") == family["third"].id
    for text in ("", "abc", "999999", "123456789012"):
        with pytest.raises(DomainError):
            dedup.resolve_person_ref(db.session, text)


def test_review_same_person_survivor_is_the_older_record_and_undo_reopens_it(family, now, make):
    older = make.customer(first_name="Jo", created_at=now - timedelta(days=30))
    newer = make.customer(first_name="Jo", phone="+33600000001", created_at=now)
    item = ReviewItem(customer_id=older.id, candidate_id=newer.id, score=0.9)
    db.session.add(item)
    db.session.commit()
    resolution = dedup.resolve_review(db.session, item.id, same=True, by_id=family["admin"].id, now=now)
    db.session.commit()
    assert resolution.merge.detail["survivor_id"] == older.id
    assert resolution.merge.detail["review_item_id"] == item.id
    assert db.session.get(Customer, newer.id).merged_into_id == older.id
    item = db.session.get(ReviewItem, item.id)
    assert (item.status, item.resolved_by_id, item.resolved_at) == ("merged", family["admin"].id, now)

    undo = dedup.undo_merge(db.session, resolution.merge.id, by_id=family["admin"].id, now=now)
    db.session.commit()
    item = db.session.get(ReviewItem, item.id)
    assert (item.status, item.resolved_by_id, item.resolved_at) == ("pending", None, None)
    assert undo.detail["review_item_reopened"] == item.id


def test_review_same_person_follows_earlier_merges(family, now):
    # `earlier` was merged into the absorbed record: the live record answers for it.
    item = ReviewItem(customer_id=family["earlier"].id, candidate_id=family["absorbed"].id, score=0.9)
    db.session.add(item)
    db.session.commit()
    resolution = dedup.resolve_review(db.session, item.id, same=True, by_id=None, now=now)
    assert resolution.merge is None and resolution.item.status == "merged"
    with pytest.raises(dedup.ReviewAlreadyResolved):
        dedup.resolve_review(db.session, item.id, same=False, by_id=None, now=now)
    with pytest.raises(dedup.ReviewItemNotFound):
        dedup.resolve_review(db.session, 999_999, same=False, by_id=None, now=now)
