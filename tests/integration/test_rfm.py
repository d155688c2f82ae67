"""RFM computed by the database equals a plain reference computation, on SQLite and PostgreSQL."""

import csv
import io
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from math import floor
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select

from webapp.domain import rfm
from webapp.extensions import db
from webapp.models import Customer, RfmScore, RfmSnapshot, Visit

PARIS = ZoneInfo("Europe/Paris")
AS_OF = date(2026, 6, 15)


def reference(visits, as_of, *, shop_id=None, window_start=None):
    """RFM written plainly from the definitions in DESIGN.md."""
    per_customer = defaultdict(list)
    for visit in visits:
        local = visit["visited_at"].astimezone(PARIS)
        if visit["voided"] or local.date() > as_of:
            continue
        if window_start and local.date() < window_start:
            continue
        if shop_id is not None and visit["shop_id"] != shop_id:
            continue
        per_customer[visit["customer_id"]].append((local.date(), visit["amount_cents"]))
    measures = {
        customer: ((as_of - max(d for d, _ in rows)).days, len(rows), sum(a for _, a in rows))
        for customer, rows in per_customer.items()
    }
    n = len(measures)

    def score(rank):
        return 1 if n == 1 else min(5, 1 + floor(5 * Fraction(rank - 1, n - 1)))

    result = {}
    for customer, (recency, frequency, monetary) in measures.items():
        r = score(1 + sum(1 for other in measures.values() if other[0] > recency))
        f = score(1 + sum(1 for other in measures.values() if other[1] < frequency))
        m = score(1 + sum(1 for other in measures.values() if other[2] < monetary))
        fm = floor(Fraction(f + m, 2) + Fraction(1, 2))
        result[customer] = (recency, frequency, monetary, r, f, m, rfm.SEGMENT_GRID[(r, fm)])
    return result


@pytest.fixture
def dataset(make):
    """Many ties (few amounts, few days), times around local midnight and DST changes, voids, union-level visits."""
    rng = random.Random(7)
    shops = [make.shop(), make.shop(), make.shop()]
    customers = [make.customer() for _ in range(120)]
    tricky_instants = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # already 29 March in Paris (winter time)
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # summer time starts
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # winter time starts at 01:00 UTC
        datetime(2026, 6, 14, 22, 30, tzinfo=UTC),  # 15 June 00:30 in Paris: the as-of day itself
        datetime(2026, 6, 15, 21, 59, tzinfo=UTC),  # 23:59 on the as-of day
        datetime(2026, 6, 15, 22, 0, tzinfo=UTC),  # 16 June in Paris: after the as-of date
    ]
    rows = []
    for customer in customers[:110]:  # ten customers never visit
        for _ in range(rng.choice([1, 1, 2, 3, 5, 8])):
            if rng.random() < 0.15:
                at = rng.choice(tricky_instants)
            else:
                day = AS_OF - timedelta(days=rng.choice([0, 1, 3, 7, 30, 90, 200, 400]))
                at = datetime(day.year, day.month, day.day, rng.choice([7, 12, 18, 21, 22, 23]), 15, tzinfo=UTC)
            rows.append(
                {
                    "customer_id": customer.id,
                    "shop_id": rng.choice([shops[0].id, shops[1].id, shops[2].id, None]),
                    "amount_cents": rng.choice([0, 500, 500, 1000, 2350]),
                    "points": 0,
                    "visited_at": at,
                    "source": "import",
                    "created_at": at,
                    "voided": rng.random() < 0.05,
                }
            )
    db.session.execute(
        insert(Visit),
        [
            {
                **{k: v for k, v in row.items() if k != "voided"},
                "voided_at": row["visited_at"] if row["voided"] else None,
            }
            for row in rows
        ],
    )
    db.session.commit()
    return shops, rows


def stored(snapshot):
    return {
        row.customer_id: (row.recency_days, row.frequency, row.monetary_cents, row.r, row.f, row.m, row.segment)
        for row in db.session.scalars(select(RfmScore).where(RfmScore.snapshot_id == snapshot.id))
    }


def test_union_wide_rfm_equals_the_reference(dataset, now):
    _, rows = dataset
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF), now=now)
    db.session.commit()
    expected = reference(rows, AS_OF)
    assert stored(snapshot) == expected
    assert snapshot.people == len(expected) and len(expected) > 90
    scores = list(expected.values())
    assert len({s[3] for s in scores}) >= 4 and {s[4] for s in scores} >= {1, 5}  # the scale is used
    assert any(s[0] == 0 for s in scores)  # a visit on the as-of date gives 0


def test_per_shop_and_window(dataset, now):
    shops, rows = dataset
    shop = shops[1]
    window = AS_OF - timedelta(days=100)
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF, shop_id=shop.id, window_start=window), now=now)
    db.session.commit()
    assert stored(snapshot) == reference(rows, AS_OF, shop_id=shop.id, window_start=window)


def test_other_as_of_date_and_time_zone_edges(dataset, now):
    _, rows = dataset
    as_of = date(2026, 3, 29)
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=as_of), now=now)
    db.session.commit()
    assert stored(snapshot) == reference(rows, as_of)


def test_refresh_replaces_the_snapshot_of_the_same_scope_and_date(dataset, now):
    rfm.refresh(db.session, rfm.Scope(as_of=AS_OF), now=now)
    second = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF), now=now)
    db.session.commit()
    assert db.session.scalars(select(RfmSnapshot.id)).all() == [second.id]
    assert db.session.scalar(select(func.count()).select_from(RfmScore)) == second.people > 0
    assert rfm.latest_snapshot(db.session).id == second.id


def test_single_customer_and_empty_scope(make, now):
    shop = make.shop()
    assert rfm.refresh(db.session, rfm.Scope(as_of=AS_OF, shop_id=shop.id), now=now).people == 0
    card = make.card()
    make.visit(card, shop, 1200, datetime(2026, 6, 10, 10, tzinfo=UTC))
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF, shop_id=shop.id), now=now)
    assert stored(snapshot) == {card.customer_id: (5, 1, 1200, 1, 1, 1, "lost")}  # alone: every score is 1


def test_cli_refresh_and_export(runner, make):
    shop = make.shop(slug="caviste")
    hostile = make.customer(reference='=HYPERLINK("http://evil")')
    plain = make.customer(reference="C-002")
    card = make.card()
    for customer_id, amount in [(hostile.id, 1000), (plain.id, 3000), (card.customer_id, 2000)]:
        db.session.add(
            Visit(
                customer_id=customer_id,
                shop_id=shop.id,
                amount_cents=amount,
                points=0,
                visited_at=datetime(2026, 6, 1, 10, tzinfo=UTC),
                source="import",
            )
        )
    db.session.commit()
    result = runner.invoke(args=["rfm", "refresh", "--as-of", "2026-06-15"])
    assert result.exit_code == 0, result.output
    assert "3 people" in result.output
    out = runner.invoke(args=["rfm", "export", "-", "--as-of", "2026-06-15", "--shop", "caviste"])
    assert out.exit_code == 0, out.output
    lines = list(csv.reader(io.StringIO(out.output)))
    assert lines[0] == rfm.EXPORT_HEADER
    refs = {line[0] for line in lines[1:]}
    assert refs == {'\'=HYPERLINK("http://evil")', "C-002", card.number}
    bad = runner.invoke(args=["rfm", "refresh", "--shop", "nope"])
    assert bad.exit_code != 0 and "no shop" in bad.output
    bad_date = runner.invoke(args=["rfm", "refresh", "--as-of", "15/06/2026"])
    assert bad_date.exit_code != 0


def test_erased_customers_still_count_but_export_without_identity(make, now):
    customer = make.customer(reference="C-9")
    shop = make.shop()
    db.session.add(
        Visit(
            customer_id=customer.id,
            shop_id=shop.id,
            amount_cents=100,
            points=0,
            visited_at=datetime(2026, 6, 1, tzinfo=UTC),
            source="import",
        )
    )
    customer.reference = None
    customer.erased_at = now
    db.session.commit()
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF), now=now)
    rows = list(rfm.export_rows(db.session, snapshot.id))
    assert len(rows) == 1 and rows[0][0] == f"#{customer.id}"
    assert db.session.get(Customer, customer.id).erased_at is not None
