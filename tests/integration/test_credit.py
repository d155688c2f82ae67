"""Crediting visits on a real database: exactly once, cooldown, voiding."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import new_key
from tests.factories import Factories
from webapp.domain import points, visits
from webapp.domain.errors import (
    AlreadyVoided,
    CooldownActive,
    IdempotencyKeyReused,
    InvalidAmount,
    InvalidIdempotencyKey,
    VisitNotFound,
)
from webapp.domain.visits import CreditRules
from webapp.extensions import db
from webapp.models import Card, PointsEntry, Visit

RULES = CreditRules(points_per_euro=1, cooldown_minutes=10)


def credit(card, shop, now, amount=2350, key=None, **kwargs):
    result = visits.credit_visit(
        db.session,
        card=card,
        shop_id=shop.id,
        amount_cents=amount,
        idempotency_key=key or new_key(),
        now=now,
        rules=RULES,
        **kwargs,
    )
    db.session.commit()
    return result


def count_visits():
    return db.session.scalar(select(func.count(Visit.id)))


def test_credit_records_visit_and_points(make, now):
    shop, card = make.shop(), make.card()
    result = credit(card, shop, now, amount=2350)
    assert (result.points, result.amount_cents, result.replayed) == (23, 2350, False)
    assert points.balance(db.session, card.customer_id) == 23
    assert count_visits() == 1


def test_same_key_twice_credits_once_and_replays(make, now):
    shop, card = make.shop(), make.card()
    key = new_key()
    first = credit(card, shop, now, key=key)
    again = credit(card, shop, now + timedelta(seconds=5), key=key)
    assert again.replayed and again.visit_id == first.visit_id
    assert count_visits() == 1
    assert points.balance(db.session, card.customer_id) == 23


def test_same_key_with_another_payload_is_refused(make, now):
    shop, card = make.shop(), make.card()
    key = new_key()
    credit(card, shop, now, key=key, amount=1000)
    with pytest.raises(IdempotencyKeyReused):
        credit(card, shop, now, key=key, amount=2000)
    db.session.rollback()
    assert count_visits() == 1


def test_cooldown_per_card_and_shop(make, now):
    shop, other_shop, card = make.shop(), make.shop(), make.card()
    credit(card, shop, now)
    with pytest.raises(CooldownActive) as refused:
        credit(card, shop, now + timedelta(minutes=9, seconds=59))
    db.session.rollback()
    assert refused.value.credited_at == now
    assert refused.value.retry_at == now + timedelta(minutes=10)
    credit(card, other_shop, now + timedelta(minutes=1))  # another shop is fine
    credit(card, shop, now + timedelta(minutes=10, seconds=1))  # after the cooldown
    assert count_visits() == 3


def test_voided_visit_does_not_block_and_takes_points_back(make, now):
    shop, card, merchant = make.shop(), make.card(), None
    merchant = make.staff(shop=shop)
    first = credit(card, shop, now)
    visits.void_visit(db.session, visit_id=first.visit_id, shop_id=shop.id, by_id=merchant.id, now=now)
    db.session.commit()
    assert points.balance(db.session, card.customer_id) == 0
    visit = db.session.get(Visit, first.visit_id)
    assert visit.voided_at == now and visit.voided_by_id == merchant.id
    kinds = db.session.scalars(select(PointsEntry.kind).order_by(PointsEntry.id)).all()
    assert kinds == ["earned", "adjusted"]
    credit(card, shop, now + timedelta(minutes=1))  # the void lifted the cooldown
    with pytest.raises(AlreadyVoided):
        visits.void_visit(db.session, visit_id=first.visit_id, shop_id=shop.id, by_id=merchant.id, now=now)


def test_a_shop_cannot_void_another_shops_visit(make, now):
    shop, other, card = make.shop(), make.shop(), make.card()
    result = credit(card, shop, now)
    intruder = make.staff(shop=other)
    with pytest.raises(VisitNotFound):
        visits.void_visit(db.session, visit_id=result.visit_id, shop_id=other.id, by_id=intruder.id, now=now)
    db.session.rollback()
    assert db.session.get(Visit, result.visit_id).voided_at is None


@pytest.mark.parametrize("amount", [-1, 1_000_001, 12.5, "1200", None, True])
def test_bad_amounts_credit_nothing(make, now, amount):
    shop, card = make.shop(), make.card()
    with pytest.raises(InvalidAmount):
        credit(card, shop, now, amount=amount)
    db.session.rollback()
    assert count_visits() == 0


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space in it 123456", "é" * 20])
def test_bad_idempotency_keys_credit_nothing(make, now, key):
    shop, card = make.shop(), make.card()
    with pytest.raises(InvalidIdempotencyKey):
        visits.credit_visit(
            db.session, card=card, shop_id=shop.id, amount_cents=100, idempotency_key=key, now=now, rules=RULES
        )
    db.session.rollback()
    assert count_visits() == 0


@pytest.mark.parametrize(
    "text,cents", [("23,50", 2350), ("23.5", 2350), ("23", 2300), ("0", 0), (" 1 234,05 € ", 123405), ("0,01", 1)]
)
def test_parse_amount(text, cents):
    assert visits.parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "-3", "1,234", "23,505", "1e3", "12..5", "∞", "10000,01"])
def test_parse_amount_refuses(text):
    with pytest.raises(InvalidAmount):
        visits.parse_amount(text)


def _concurrent(app, count, work):
    """Run `work(index)` in `count` threads, each with its own connection, started together."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(index):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[index] = work(index)
            except Exception as error:  # noqa: BLE001 - recorded for the assertion
                db.session.rollback()
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_twenty_simultaneous_requests_with_one_key_credit_once(pg_app, now):
    make = Factories(db.session)
    shop, card = make.shop(), make.card()
    card_id, shop_id, key = card.id, shop.id, new_key()

    def work(_index):
        fresh = db.session.get(Card, card_id)
        result = visits.credit_visit(
            db.session, card=fresh, shop_id=shop_id, amount_cents=2350, idempotency_key=key, now=now, rules=RULES
        )
        db.session.commit()
        return result

    outcomes = _concurrent(pg_app, 20, work)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert len({o.visit_id for o in outcomes}) == 1
    assert sum(not o.replayed for o in outcomes) == 1
    db.session.expire_all()
    assert count_visits() == 1
    assert points.balance(db.session, card.customer_id) == 23


def test_simultaneous_different_keys_respect_the_cooldown(pg_app, now):
    make = Factories(db.session)
    shop, card = make.shop(), make.card()
    card_id, shop_id = card.id, shop.id

    def work(_index):
        fresh = db.session.get(Card, card_id)
        result = visits.credit_visit(
            db.session, card=fresh, shop_id=shop_id, amount_cents=500, idempotency_key=new_key(), now=now, rules=RULES
        )
        db.session.commit()
        return result

    outcomes = _concurrent(pg_app, 10, work)
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert all(isinstance(o, CooldownActive) for o in outcomes if isinstance(o, Exception))
    db.session.expire_all()
    assert count_visits() == 1
