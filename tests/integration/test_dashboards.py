"""Dashboard aggregates computed by the database equal figures worked out by hand, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update

from webapp.domain import dashboards, rfm
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Card,
    RfmCrossShop,
    RfmScore,
    RfmSnapshot,
    SavedTarget,
    SavedTargetMember,
    Visit,
    ZonePostcode,
)

AS_OF = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def add_visits(rows):
    """rows: (customer, shop, cents, when[, voided])."""
    db.session.execute(
        insert(Visit),
        [
            {
                "customer_id": customer.id,
                "shop_id": shop.id if shop else None,
                "amount_cents": cents,
                "points": 0,
                "visited_at": when,
                "source": "import",
                "created_at": when,
                "voided_at": when if voided else None,
            }
            for customer, shop, cents, when, *rest in rows
            for voided in [bool(rest and rest[0])]
        ],
    )
    db.session.commit()


def stored_snapshot(scores, *, as_of=AS_OF, shop=None):
    """A snapshot written by hand: scores = {customer: (recency, frequency, monetary, r, f, m)}."""
    snapshot = RfmSnapshot(as_of=as_of, shop_id=shop.id if shop else None, people=len(scores), created_at=NOW)
    db.session.add(snapshot)
    db.session.flush()
    if scores:
        db.session.execute(
            insert(RfmScore),
            [
                {
                    "snapshot_id": snapshot.id,
                    "customer_id": customer.id,
                    "recency_days": recency,
                    "frequency": frequency,
                    "monetary_cents": monetary,
                    "r": r,
                    "f": f,
                    "m": m,
                    "segment": rfm.segment_of(r, f, m),
                }
                for customer, (recency, frequency, monetary, r, f, m) in scores.items()
            ],
        )
    db.session.commit()
    return snapshot


# Five customers whose every score is their rank: customer i visits i times, spends i x 10 EUR a
# visit and came last (5 - i) x 10 days before the as-of date. R = F = M = FM = i, so the
# segments are the grid's diagonal: lost, hibernating, need_attention, loyal, champions.


@pytest.fixture
def ladder(make):
    shop = make.shop()
    customers = [make.customer() for _ in range(5)]
    rows = []
    for i, customer in enumerate(customers, start=1):
        last = date.fromordinal(AS_OF.toordinal() - (5 - i) * 10)
        for k in range(i):
            day = date.fromordinal(last.toordinal() - 40 * k)
            rows.append((customer, shop, i * 1000, at(day.isoformat())))
    add_visits(rows)
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF), now=NOW)
    db.session.commit()
    return shop, customers, snapshot


def test_the_ladder_scores_are_the_ranks(ladder):
    _, customers, snapshot = ladder
    scores = {s.customer_id: (s.r, s.f, s.m, s.segment) for s in db.session.scalars(select(RfmScore))}
    expected = ["lost", "hibernating", "need_attention", "loyal", "champions"]
    assert scores == {c.id: (i, i, i, expected[i - 1]) for i, c in enumerate(customers, start=1)}
    assert snapshot.people == 5


def test_segment_sizes_and_shares(ladder):
    _, _, snapshot = ladder
    figures = dashboards.overview(db.session, snapshot.id)
    # spend: customer i spends i visits x i x 10 EUR = i^2 x 1000 cents; total 55 000
    assert figures.people == 5 and figures.monetary_cents == 55_000
    by_code = {s.code: s for s in figures.segments}
    assert [s.code for s in figures.segments] == list(rfm.SEGMENTS)
    assert by_code["champions"].people == 1 and by_code["champions"].monetary_cents == 25_000
    assert by_code["champions"].people_share == pytest.approx(0.2)
    assert by_code["champions"].monetary_share == pytest.approx(25 / 55)
    assert by_code["lost"].monetary_share == pytest.approx(1 / 55)
    assert by_code["new"].people == 0 and by_code["new"].people_share == 0
    assert sum(s.people for s in figures.segments) == 5


def test_grid_cells(ladder):
    _, _, snapshot = ladder
    figures = dashboards.overview(db.session, snapshot.id)
    assert [row[0].r for row in figures.grid] == [5, 4, 3, 2, 1]
    assert [cell.fm for cell in figures.grid[0]] == [1, 2, 3, 4, 5]
    counts = {(cell.r, cell.fm): cell.people for row in figures.grid for cell in row}
    assert counts == {(r, fm): 1 if r == fm else 0 for r in range(1, 6) for fm in range(1, 6)}
    assert figures.grid[0][4].segment == "champions" and figures.grid[0][4].share == pytest.approx(0.2)
    assert all(cell.segment == rfm.SEGMENT_GRID[(cell.r, cell.fm)] for row in figures.grid for cell in row)
    assert figures.largest_cell == 1


def test_grid_fm_rounds_half_up(make):
    people = [make.customer() for _ in range(3)]
    snapshot = stored_snapshot(
        {
            people[0]: (3, 1, 100, 2, 1, 2),  # FM = 1.5 -> 2
            people[1]: (3, 1, 100, 2, 2, 2),
            people[2]: (3, 1, 100, 5, 4, 5),  # FM = 4.5 -> 5
        }
    )
    figures = dashboards.overview(db.session, snapshot.id)
    counts = {(cell.r, cell.fm): cell.people for row in figures.grid for cell in row if cell.people}
    assert counts == {(2, 2): 2, (5, 5): 1}
    by_code = {s.code: s.people for s in figures.segments if s.people}
    assert by_code == {"hibernating": 2, "champions": 1}


def test_distributions(ladder):
    _, _, snapshot = ladder
    figures = dashboards.distributions(db.session, snapshot.id)
    assert (figures.people, figures.visits, figures.monetary_cents) == (5, 15, 55_000)
    assert figures.mean_basket_cents == round(55_000 / 15)
    # recency 40, 30, 20, 10, 0 days
    assert [(b.low, b.high, b.count) for b in figures.recency] == [
        (0, 7, 1),
        (8, 30, 3),
        (31, 90, 1),
        (91, 180, 0),
        (181, 365, 0),
        (366, 730, 0),
        (731, None, 0),
    ]
    # frequency 1..5
    assert [b.count for b in figures.frequency] == [1, 1, 2, 1, 0, 0, 0]
    # monetary 1 000, 4 000, 9 000, 16 000, 25 000 cents
    assert [(b.low, b.count) for b in figures.monetary] == [
        (0, 0),
        (1_000, 2),
        (5_000, 1),
        (10_000, 1),
        (25_000, 1),
        (50_000, 0),
        (100_000, 0),
    ]
    assert figures.monetary[0].high == 999


def test_empty_snapshot(make):
    snapshot = stored_snapshot({})
    assert dashboards.overview(db.session, snapshot.id).people == 0
    figures = dashboards.distributions(db.session, snapshot.id)
    assert figures.people == 0 and figures.mean_basket_cents == 0
    assert dashboards.segment_members(db.session, snapshot.id, "lost").total == 0


def test_segment_members_paginated_biggest_spenders_first(make):
    people = [make.customer(first_name=f"P{i}", reference=f"REF-{i}") for i in range(4)]
    people.append(make.customer(first_name="P4"))  # no import reference
    card = make.card(people[4])
    snapshot = stored_snapshot(
        {
            people[0]: (3, 2, 500, 2, 1, 1),
            people[1]: (9, 1, 900, 1, 1, 2),
            people[2]: (3, 2, 900, 2, 1, 1),
            people[3]: (1, 9, 9900, 5, 5, 5),  # another segment
            people[4]: (4, 1, 100, 2, 2, 1),
        }
    )
    first = dashboards.segment_members(db.session, snapshot.id, "lost", page=1, per_page=2)
    second = dashboards.segment_members(db.session, snapshot.id, "hibernating", page=1, per_page=2)
    assert first.total == 1 and first.rows[0].customer_id == people[1].id
    assert second.total == 3 and second.pages == 2
    assert [row.customer_id for row in second.rows] == [people[2].id, people[0].id]  # 900 before 500
    last = dashboards.segment_members(db.session, snapshot.id, "hibernating", page=2, per_page=2)
    assert [row.customer_id for row in last.rows] == [people[4].id] and last.total == 3
    assert last.rows[0].reference == card.number  # no import reference: the card number
    row = second.rows[0]
    assert (row.reference, row.first_name, row.r, row.f, row.m, row.recency_days, row.frequency) == (
        "REF-2",
        "P2",
        2,
        1,
        1,
        3,
        2,
    )
    beyond = dashboards.segment_members(db.session, snapshot.id, "hibernating", page=9, per_page=2)
    assert beyond.rows == [] and beyond.total == 3


def test_segment_export_is_audited(make):
    people = [make.customer(first_name="=cmd", reference=f"R{i}") for i in range(2)]
    snapshot = stored_snapshot({people[0]: (3, 2, 500, 1, 1, 1), people[1]: (3, 2, 700, 1, 1, 1)})
    header = [f"h{i}" for i in range(10)]
    data, count = dashboards.export_segment(
        db.session, snapshot, "lost", fmt="csv", header=header, segment_labels={"lost": "Perdus"}, by_id=None, now=NOW
    )
    db.session.commit()
    text = data.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert count == 2 and lines[0] == ";".join(header)
    assert lines[1] == "R1;'=cmd;;1;1;1;Perdus;3;2;700"  # biggest first, formula neutralised
    entry = db.session.scalar(select(AuditEntry))
    assert entry.action == "export"
    assert entry.detail["list"] == "segment:lost" and entry.detail["rows"] == 2 and entry.detail["format"] == "csv"


# Movement between two snapshots


@pytest.fixture
def two_dates(make):
    """Before: a, b loyal; c at_risk; d lost. After: a loyal, b at_risk, c at_risk, e new; d gone."""
    a, b, c, d, e = (make.customer(first_name=name) for name in "abcde")
    before = stored_snapshot(
        {
            a: (10, 5, 5000, 3, 4, 4),  # loyal
            b: (10, 5, 6000, 3, 5, 4),  # loyal
            c: (60, 3, 3000, 1, 3, 3),  # at_risk
            d: (90, 1, 100, 1, 1, 1),  # lost
        },
        as_of=date(2026, 5, 1),
    )
    after = stored_snapshot(
        {
            a: (5, 6, 5500, 3, 4, 4),  # loyal
            b: (45, 5, 6000, 2, 4, 3),  # at_risk
            c: (90, 3, 3000, 2, 3, 3),  # at_risk
            e: (1, 1, 800, 5, 1, 1),  # new
        }
    )
    return (a, b, c, d, e), before, after


def test_movement_matrix(two_dates):
    (a, b, c, d, e), before, after = two_dates
    moved = dashboards.movement(db.session, before.id, after.id)
    assert moved.counts == {
        ("loyal", "loyal"): 1,
        ("loyal", "at_risk"): 1,
        ("at_risk", "at_risk"): 1,
        ("none", "new"): 1,
        ("lost", "none"): 1,
    }
    assert moved.total == 5 and moved.unchanged == 2
    assert moved.row_total("loyal") == 2 and moved.column_total("at_risk") == 2
    assert moved.rows[-1] == "none" and moved.columns[-1] == "none"
    assert moved.count("champions", "loyal") == 0


def test_movement_cells_list_their_people(two_dates):
    (a, b, c, d, e), before, after = two_dates

    def ids(was, became):
        page = dashboards.movement_members(db.session, before.id, after.id, was, became)
        return [row.customer_id for row in page.rows], page

    assert ids("loyal", "at_risk")[0] == [b.id]
    customers, page = ids("loyal", "at_risk")
    assert page.rows[0].segment == "at_risk" and page.rows[0].previous_segment == "loyal"
    assert page.rows[0].recency_days == 45  # the later figures
    assert ids("none", "new")[0] == [e.id]
    gone, page = ids("lost", "none")
    assert gone == [d.id] and page.rows[0].recency_days == 90 and page.rows[0].segment == "none"
    assert ids("loyal", "loyal")[0] == [a.id]
    assert ids("champions", "lost")[0] == []


def test_movement_export_has_the_previous_segment(two_dates):
    _, before, after = two_dates
    data, count = dashboards.export_movement(
        db.session,
        before,
        after,
        "none",
        "new",
        fmt="csv",
        header=[f"h{i}" for i in range(11)],
        segment_labels={"new": "Nouveaux", "none": "Absents"},
        by_id=None,
        now=NOW,
    )
    db.session.commit()
    row = data.decode("utf-8-sig").strip().split("\r\n")[1].split(";")
    assert count == 1 and row[6] == "Nouveaux" and row[10] == "Absents"
    assert db.session.scalar(select(AuditEntry)).detail["list"] == "movement:none:new"


def test_snapshots_of_a_scope(make, two_dates):
    _, before, after = two_dates
    shop = make.shop()
    own = stored_snapshot({}, shop=shop)
    assert [s.id for s in dashboards.snapshots(db.session, None)] == [after.id, before.id]
    assert dashboards.snapshot_in_scope(db.session, None, None).id == after.id
    assert dashboards.snapshot_in_scope(db.session, before.id, None).id == before.id
    assert dashboards.snapshot_in_scope(db.session, before.id, shop.id) is None  # another scope
    assert dashboards.snapshot_in_scope(db.session, own.id, shop.id).id == own.id
    assert dashboards.snapshot_in_scope(db.session, own.id, None) is None


def test_refresh_all_covers_the_union_and_each_active_shop(make):
    shop_a, shop_b, closed = make.shop(), make.shop(), make.shop(active=False)
    person = make.customer()
    add_visits([(person, shop_a, 1000, at("2026-06-01")), (person, closed, 500, at("2026-06-02"))])
    done = rfm.refresh_all(db.session, as_of=AS_OF, timezone="Europe/Paris", now=NOW, created_by_id=None)
    db.session.commit()
    assert [s.shop_id for s in done] == [None, shop_a.id, shop_b.id]
    assert [s.people for s in done] == [1, 1, 0]
    assert db.session.scalar(select(func.count()).select_from(RfmSnapshot)) == 3  # none for the closed shop


# Cross-shop prescription


@pytest.fixture
def shops_and_visits(make):
    """Hand-checked: see the expectations in each test."""
    a, b, c = make.shop(name="A"), make.shop(name="B"), make.shop(name="C")
    closed = make.shop(name="Closed", active=False)
    p = {name: make.customer(first_name=name) for name in ("p1", "p2", "p3", "p4", "p5", "p6", "p7")}
    add_visits(
        [
            (p["p1"], a, 1000, at("2026-06-01")),
            (p["p1"], b, 2000, at("2026-06-02")),
            (p["p1"], closed, 2000, at("2026-06-02")),
            (p["p2"], a, 1500, at("2026-05-01")),
            (p["p2"], c, 700, at("2026-05-02")),
            (p["p3"], a, 500, at("2026-04-01")),
            (p["p3"], a, 900, at("2026-04-10")),
            (p["p3"], b, 900, at("2026-04-05"), True),  # void: does not count
            (p["p4"], a, 300, at("2024-01-10")),  # older than 12 months
            (p["p4"], b, 300, at("2026-06-03")),
            (p["p5"], b, 100, at("2026-06-05")),
            (p["p6"], a, 4000, at("2026-06-10")),
            (p["p6"], b, 100, at("2025-01-10")),  # older than 12 months
            (p["p7"], a, 200, at("2026-06-15", 21, 30)),  # 23:30 on the as-of day in Paris: inside
            (p["p7"], b, 200, at("2026-06-15", 22, 30)),  # 00:30 the day after in Paris: outside
            (p["p7"], None, 200, at("2026-06-01")),  # union-level visit: no shop
        ]
    )
    return (a, b, c, closed), p


ALL = dashboards.window_of(AS_OF, None, "Europe/Paris")
YEAR = dashboards.window_of(AS_OF, 12, "Europe/Paris")


def test_window_of():
    assert (ALL.start, ALL.end) == (None, AS_OF)
    assert (YEAR.start, YEAR.end, YEAR.months) == (date(2025, 6, 16), AS_OF, 12)
    assert dashboards.window_of(date(2026, 3, 31), 1, "Europe/Paris").start == date(2026, 3, 1)  # 28 Feb + 1
    assert dashboards.window_of(date(2026, 1, 15), 3, "Europe/Paris").start == date(2025, 10, 16)
    assert YEAR.as_params() == {"start": "2025-06-16", "end": "2026-06-15", "months": 12, "timezone": "Europe/Paris"}


def test_cross_shop_counts_all_history(shops_and_visits):
    (a, b, c, closed), _ = shops_and_visits
    figures = dashboards.cross_shop(db.session, a.id, ALL)
    # customers of A: p1 p2 p3 p4 p6 p7; also at B: p1 p4 p6; also at C: p2
    assert figures.customers == 6
    assert [(row.shop_id, row.shared, row.missing) for row in figures.rows] == [(b.id, 3, 3), (c.id, 1, 5)]
    assert figures.rows[0].share == pytest.approx(0.5)
    assert figures.largest == 3
    assert all(row.shop_id != closed.id for row in figures.rows)


def test_cross_shop_counts_last_twelve_months(shops_and_visits):
    (a, b, c, _), _ = shops_and_visits
    figures = dashboards.cross_shop(db.session, a.id, YEAR)
    # customers of A since 2025-06-16: p1 p2 p3 p6 p7; also at B in the window: p1 only
    assert figures.customers == 5
    assert {row.shop_id: row.shared for row in figures.rows} == {b.id: 1, c.id: 1}
    from_b = dashboards.cross_shop(db.session, b.id, YEAR)
    # customers of B in the window: p1 p4 p5 (p3 void, p6 too old, p7 after the end); at A: p1
    assert from_b.customers == 3 and {row.shop_id: row.shared for row in from_b.rows} == {a.id: 1, c.id: 0}


@pytest.mark.parametrize("months", [None, *dashboards.WINDOW_MONTHS])
def test_pair_counts_stored_with_the_union_snapshot_equal_the_live_ones(shops_and_visits, months):
    (a, b, c, closed), _ = shops_and_visits
    window = dashboards.window_of(AS_OF, months, "Europe/Paris")
    live = {shop.id: dashboards.cross_shop(db.session, shop.id, window) for shop in (a, b, c)}
    union_snapshot, *shop_snapshots = rfm.refresh_all(db.session, as_of=AS_OF, timezone="Europe/Paris", now=NOW)
    assert union_snapshot.cross_shop and not any(snapshot.cross_shop for snapshot in shop_snapshots)
    assert dashboards.cross_shop_snapshot(db.session).id == union_snapshot.id
    stored = {
        (from_shop, to_shop): people
        for from_shop, to_shop, people in db.session.execute(
            select(RfmCrossShop.from_shop_id, RfmCrossShop.to_shop_id, RfmCrossShop.people).where(
                RfmCrossShop.snapshot_id == union_snapshot.id, RfmCrossShop.months == (months or 0)
            )
        )
    }
    assert stored[(a.id, a.id)] == live[a.id].customers
    assert stored[(a.id, b.id)] == stored[(b.id, a.id)] == live[a.id].rows[0].shared
    assert all(closed.id not in pair for pair in stored)  # closed shops have no snapshot
    # The visits change after the snapshot: the page of that date still reads the stored counts.
    db.session.execute(update(Visit).values(voided_at=NOW))
    for shop in (a, b, c):
        assert dashboards.cross_shop(db.session, shop.id, window) == live[shop.id]
    later = dashboards.window_of(date(2026, 6, 16), months, "Europe/Paris")
    assert dashboards.cross_shop(db.session, a.id, later).customers == 0  # no snapshot of that date: live


def test_a_refresh_of_the_union_alone_stores_no_pair_counts(shops_and_visits):
    snapshot = rfm.refresh(db.session, rfm.Scope(as_of=AS_OF), now=NOW)
    assert not snapshot.cross_shop and dashboards.cross_shop_snapshot(db.session) is None


def test_refreshing_a_date_again_replaces_its_pair_counts(shops_and_visits):
    rfm.refresh_all(db.session, as_of=AS_OF, timezone="Europe/Paris", now=NOW)
    again, *_shops = rfm.refresh_all(db.session, as_of=AS_OF, timezone="Europe/Paris", now=NOW)
    assert set(db.session.scalars(select(RfmCrossShop.snapshot_id))) == {again.id}
    db.session.execute(update(Visit).values(voided_at=NOW))
    emptied, *_shops = rfm.refresh_all(db.session, as_of=AS_OF, timezone="Europe/Paris", now=NOW)
    assert emptied.cross_shop and db.session.scalar(select(func.count()).select_from(RfmCrossShop)) == 0


def test_never_visited_lists_the_complement(shops_and_visits):
    (a, b, _c, _), p = shops_and_visits
    page = dashboards.never_visited(db.session, a.id, b.id, ALL)
    assert [row.customer_id for row in page.rows] == [p["p2"].id, p["p3"].id, p["p7"].id]  # by spend at A
    assert page.total == 3
    p3 = page.rows[1]
    assert (p3.visits, p3.monetary_cents) == (2, 1400)
    assert p3.last_visit_at == at("2026-04-10")
    year = dashboards.never_visited(db.session, a.id, b.id, YEAR, per_page=2)
    assert year.total == 4 and year.pages == 2
    assert [row.customer_id for row in year.rows] == [p["p6"].id, p["p2"].id]
    with pytest.raises(dashboards.SameShop):
        dashboards.never_visited(db.session, a.id, a.id, ALL)


def test_the_all_history_list_read_from_the_shop_snapshots_equals_the_live_one(shops_and_visits):
    (a, b, c, _), _ = shops_and_visits
    zone = ZoneInfo("Europe/Paris")
    live = {
        (a_id, b_id): [
            (row.customer_id, row.visits, row.monetary_cents, row.last_visit_at.astimezone(zone).date())
            for row in dashboards.never_visited(db.session, a_id, b_id, ALL).rows
        ]
        for a_id, b_id in ((a.id, b.id), (b.id, a.id), (a.id, c.id))
    }
    rfm.refresh_all(db.session, as_of=AS_OF, timezone="Europe/Paris", now=NOW)
    db.session.execute(update(Visit).values(voided_at=NOW))  # the list now comes from the snapshots only
    for (a_id, b_id), rows in live.items():
        page = dashboards.never_visited(db.session, a_id, b_id, ALL)
        assert [(r.customer_id, r.visits, r.monetary_cents, r.last_visit_at) for r in page.rows] == rows
    target = dashboards.save_cross_shop_target(db.session, a.id, b.id, ALL, name="A sans B", by_id=None, now=NOW)
    assert target.size == len(live[(a.id, b.id)])


def test_saving_a_cross_shop_target(shops_and_visits, make):
    (a, b, _c, _), p = shops_and_visits
    admin = make.staff(role="admin")
    target = dashboards.save_cross_shop_target(
        db.session, a.id, b.id, YEAR, name="  Invite B  ", by_id=admin.id, now=NOW
    )
    db.session.commit()
    saved = db.session.get(SavedTarget, target.id)
    assert (saved.name, saved.kind, saved.size, saved.shop_id, saved.created_by_id) == (
        "Invite B",
        "cross_shop",
        4,
        a.id,
        admin.id,
    )
    assert saved.params == {"from_shop": a.id, "to_shop": b.id, "window": YEAR.as_params()}
    members = set(
        db.session.scalars(select(SavedTargetMember.customer_id).where(SavedTargetMember.target_id == saved.id))
    )
    assert members == {p["p2"].id, p["p3"].id, p["p6"].id, p["p7"].id}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "save_target"))
    assert entry.object_id == saved.id and entry.detail["rows"] == 4


# Zone coverage


def test_zone_coverage(make):
    def person(postcode, card=None, **fields):
        customer = make.customer(postcode=postcode, **fields)
        if card:
            issued = make.card(customer)
            if card == "revoked":
                db.session.execute(Card.__table__.update().where(Card.id == issued.id).values(status="revoked"))
                db.session.commit()
        return customer

    person("69001", "active")
    person("69001", "active")
    person("69001")  # prospect
    person("69001", "revoked")  # neither: had a card once
    person(" 69002 ", "active")  # trimmed
    person("69003")
    person("75011", "active")  # outside the zone: no residents figure
    person("", "active")  # no postcode
    person(None)
    person("69001", "active", erased_at=NOW)  # erased: not counted
    survivor = person("69002")
    person("69002", "active", merged_into_id=survivor.id)  # merged into another: not counted
    for postcode, label, residents in (
        ("69001", "Centre", 1000),
        ("69002", "Nord", 500),
        ("69004", "Croix-Rousse", 2000),
    ):
        db.session.add(ZonePostcode(postcode=postcode, label=label, residents=residents, updated_at=NOW))
    db.session.commit()

    figures = dashboards.coverage(db.session)
    rows = [(r.postcode, r.label, r.residents, r.cardholders, r.prospects) for r in figures.rows]
    assert rows == [
        ("69001", "Centre", 1000, 2, 1),
        ("69002", "Nord", 500, 1, 1),
        ("69004", "Croix-Rousse", 2000, 0, 0),
        ("69003", "", None, 0, 1),
        ("75011", "", None, 1, 0),
        (None, "", None, 1, 1),
    ]
    by_postcode = {r.postcode: r for r in figures.rows}
    assert by_postcode["69001"].penetration == pytest.approx(0.002)
    assert by_postcode["69004"].unknown and not by_postcode["69002"].unknown
    assert by_postcode["75011"].penetration is None and not by_postcode["75011"].unknown
    assert figures.residents == 3500 and figures.cardholders_in_zone == 3
    assert figures.penetration == pytest.approx(3 / 3500)


def test_save_zone_adds_then_updates(app):
    dashboards.save_zone(db.session, postcode=" 69004 ", label="Croix-Rousse", residents=12, now=NOW)
    db.session.commit()
    dashboards.save_zone(db.session, postcode="69004", label="Plateau", residents=15, now=NOW)
    db.session.commit()
    zone = db.session.get(ZonePostcode, "69004")
    assert (zone.label, zone.residents) == ("Plateau", 15)
    with pytest.raises(dashboards.InvalidZone):
        dashboards.save_zone(db.session, postcode=" ", label="", residents=1, now=NOW)
    with pytest.raises(dashboards.InvalidZone):
        dashboards.save_zone(db.session, postcode="69005", label="", residents=-1, now=NOW)
