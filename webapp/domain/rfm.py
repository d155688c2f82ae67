"""RFM profiles computed by the database, union-wide or for one shop.

Definitions (see DESIGN.md), over the non-void visits of an analysis window
(default: all history) up to the end of the as-of date, in the union's time zone:

- recency: whole calendar days from the local date of the last visit to the as-of date;
- frequency: number of visits; monetary: sum of amounts in cents;
- each of R, F, M scored 1..5 = min(5, 1 + floor(5 x percent_rank)), with percent_rank
  ordered so that better is higher (recency by days descending, F and M ascending).
  percent_rank = (rank - 1) / (n - 1) is computed as exact integer arithmetic,
  floor(5 x (rank - 1) / (n - 1)), so SQLite and PostgreSQL agree to the last customer
  (floating-point 5 x 0.6 may land on either side of 3);
- segment: SEGMENT_GRID[(R, FM)] where FM is the mean of F and M rounded half up.

The whole computation runs as one INSERT ... SELECT with window functions: no visit
is ever loaded into Python.

`refresh_all` (the nightly job, the dashboard's button) also stores with the union-wide
snapshot the cross-shop pair counts (table rfm_cross_shop) of each analysis window of the
prescription dashboard, computed from the shop snapshots it has just written: the
dashboard then reads a few hundred rows instead of scanning the visits.
"""

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from webapp.models import Card, Customer, RfmCrossShop, RfmScore, RfmSnapshot, Shop, Visit

SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
    "lost",
)

# Rows: R from 5 (visited lately) to 1; columns: FM from 1 to 5.
_GRID_ROWS = {
    5: ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal", "champions"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    1: ("lost", "lost", "at_risk", "cant_lose_them", "cant_lose_them"),
}
SEGMENT_GRID: dict[tuple[int, int], str] = {
    (r, fm): segment for r, row in _GRID_ROWS.items() for fm, segment in enumerate(row, start=1)
}
# Analysis windows of the cross-shop pair counts, in months before the as-of date (0: all history).
CROSS_SHOP_MONTHS = (0, 3, 6, 12, 24)
EXPORT_HEADER = ["customer_ref", "recency_days", "frequency", "monetary_cents", "r", "f", "m", "segment"]


def fm_score(f: int, m: int) -> int:
    """The mean of F and M, rounded half up."""
    return (f + m + 1) // 2


def segment_of(r: int, f: int, m: int) -> str:
    return SEGMENT_GRID[(r, fm_score(f, m))]


@dataclass(frozen=True)
class Scope:
    as_of: date
    timezone: str = "Europe/Paris"
    shop_id: int | None = None
    window_start: date | None = None

    def bounds_utc(self) -> tuple[datetime | None, datetime]:
        """[start, end) in UTC: local midnight of the window start, local midnight after as_of."""
        zone = ZoneInfo(self.timezone)
        end = datetime.combine(self.as_of + timedelta(days=1), time(), zone).astimezone(UTC)
        start = None
        if self.window_start is not None:
            start = datetime.combine(self.window_start, time(), zone).astimezone(UTC)
        return start, end


def months_before(as_of: date, months: int) -> date:
    """First day of the `months` last months up to `as_of` included (12 before 2026-06-15: 2025-06-16).

    A month without that day (31 March minus one month) takes its last day, then the day after.
    """
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    month += 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(as_of.day, last_day)) + timedelta(days=1)


def _utc_offset_changes(timezone: str, until: date) -> list[tuple[datetime, int]]:
    """(UTC instant, offset in seconds from then on), newest first, from 1970 to `until`."""
    zone = ZoneInfo(timezone)
    changes = []
    instant = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=2), time(), UTC)
    offset = int(instant.astimezone(zone).utcoffset().total_seconds())
    changes.append((instant, offset))
    step = timedelta(days=1)
    while instant < end:
        following = instant + step
        new_offset = int(following.astimezone(zone).utcoffset().total_seconds())
        if new_offset != offset:
            low, high = instant, following  # find the exact hour of the change
            while high - low > timedelta(minutes=15):
                middle = low + (high - low) / 2
                if int(middle.astimezone(zone).utcoffset().total_seconds()) == offset:
                    low = middle
                else:
                    high = middle
            changes.append((high.replace(minute=(high.minute // 15) * 15, second=0, microsecond=0), new_offset))
            offset = new_offset
        instant = following
    return list(reversed(changes))


def _local_date_sql(session: Session, column, scope: Scope):
    """SQL for the local calendar date of a UTC timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(scope.timezone, func.timezone("UTC", column)), Date)
    # SQLite knows no time zones: add the offset in force at that instant (newest first,
    # so recent visits, the common case, match the first WHEN).
    whens = [
        (column >= instant, f"{offset:+d} seconds")
        for instant, offset in _utc_offset_changes(scope.timezone, scope.as_of)
    ]
    return func.date(column, case(*whens, else_="+0 seconds"))


def _days_between_sql(session: Session, local_date, as_of: date):
    if session.get_bind().dialect.name == "postgresql":
        return literal(as_of) - local_date
    return cast(func.julianday(as_of.isoformat()) - func.julianday(local_date), Integer)


def _int_div(numerator, denominator):
    """Integer division in SQL (both engines truncate integers; our operands are never negative)."""
    return numerator.op("/", precedence=100, return_type=Integer)(denominator)


def _score(rank, count):
    """min(5, 1 + floor(5 (rank-1) / (n-1))) in exact integer arithmetic; 1 when n == 1.

    The formula reaches 6 only for rank == n, hence the first branch.
    """
    return case((count <= 1, 1), (rank == count, 5), else_=1 + _int_div(5 * (rank - 1), count - 1))


def _score_select(session: Session, scope: Scope):
    start, end = scope.bounds_utc()
    conditions = [Visit.voided_at.is_(None), Visit.visited_at < end]
    if start is not None:
        conditions.append(Visit.visited_at >= start)
    if scope.shop_id is not None:
        conditions.append(Visit.shop_id == scope.shop_id)
    aggregate = (
        select(
            Visit.customer_id.label("customer_id"),
            func.max(Visit.visited_at).label("last_at"),
            func.count().label("frequency"),
            func.sum(Visit.amount_cents).label("monetary"),
        )
        .where(and_(*conditions))
        .group_by(Visit.customer_id)
        .subquery("aggregate")
    )
    local_last = _local_date_sql(session, aggregate.c.last_at, scope)
    measured = select(
        aggregate.c.customer_id,
        _days_between_sql(session, local_last, scope.as_of).label("recency_days"),
        aggregate.c.frequency,
        aggregate.c.monetary,
    ).subquery("measured")
    ranked = select(
        measured,
        func.rank().over(order_by=measured.c.recency_days.desc()).label("r_rank"),
        func.rank().over(order_by=measured.c.frequency).label("f_rank"),
        func.rank().over(order_by=measured.c.monetary).label("m_rank"),
        func.count().over().label("n"),
    ).subquery("ranked")
    scored = select(
        ranked.c.customer_id,
        ranked.c.recency_days,
        ranked.c.frequency,
        ranked.c.monetary,
        _score(ranked.c.r_rank, ranked.c.n).label("r"),
        _score(ranked.c.f_rank, ranked.c.n).label("f"),
        _score(ranked.c.m_rank, ranked.c.n).label("m"),
    ).subquery("scored")
    cell = scored.c.r * 10 + _int_div(scored.c.f + scored.c.m + 1, 2)
    segment = case({r * 10 + fm: name for (r, fm), name in SEGMENT_GRID.items()}, value=cell, else_="lost")
    return select(
        scored.c.customer_id,
        scored.c.recency_days,
        scored.c.frequency,
        scored.c.monetary,
        scored.c.r,
        scored.c.f,
        scored.c.m,
        segment.label("segment"),
    )


def refresh(session: Session, scope: Scope, *, now: datetime, created_by_id: int | None = None) -> RfmSnapshot:
    """Compute and store the snapshot of a scope, replacing an earlier one of the same scope and date."""
    if session.get_bind().dialect.name == "postgresql":
        # JIT compilation costs more than it brings to this one-off query. (More work_mem
        # keeps the window sorts in memory but makes the planner pick a slower hash aggregate.)
        session.execute(text("SET LOCAL jit = off"))
    earlier = select(RfmSnapshot.id).where(
        RfmSnapshot.as_of == scope.as_of,
        RfmSnapshot.shop_id.is_(None) if scope.shop_id is None else RfmSnapshot.shop_id == scope.shop_id,
        RfmSnapshot.window_start.is_(None)
        if scope.window_start is None
        else RfmSnapshot.window_start == scope.window_start,
    )
    stale = session.scalars(earlier).all()
    if stale:
        session.execute(delete(RfmScore).where(RfmScore.snapshot_id.in_(stale)))
        session.execute(delete(RfmCrossShop).where(RfmCrossShop.snapshot_id.in_(stale)))
        session.execute(delete(RfmSnapshot).where(RfmSnapshot.id.in_(stale)))
    snapshot = RfmSnapshot(
        as_of=scope.as_of,
        window_start=scope.window_start,
        shop_id=scope.shop_id,
        people=0,
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(snapshot)
    session.flush()
    scores = _score_select(session, scope).subquery("scores")
    session.execute(
        insert(RfmScore).from_select(
            ["snapshot_id", "customer_id", "recency_days", "frequency", "monetary_cents", "r", "f", "m", "segment"],
            select(literal(snapshot.id), *scores.c),
        )
    )
    people = session.scalar(select(func.count()).where(RfmScore.snapshot_id == snapshot.id))
    session.execute(update(RfmSnapshot).where(RfmSnapshot.id == snapshot.id).values(people=people))
    session.refresh(snapshot)
    return snapshot


def store_cross_shop(session: Session, union_snapshot: RfmSnapshot, shop_snapshots: list[RfmSnapshot]) -> None:
    """Store the pair counts of every window in CROSS_SHOP_MONTHS with a union-wide snapshot.

    Read from the shop snapshots of the same date (all history), whose rows are the
    (customer, shop) pairs with the days since the customer's last visit at the shop: a
    customer is a customer of A in a window when that visit falls in it, so a (customer,
    A, B) triple counts in every window at least as long as the older of its two last
    visits. One GROUP BY over the pairs joined on the customer gives, per pair of shops,
    how many triples fall in each window but not in the shorter ones; the windows' counts
    are then their running sums (a few thousand rows, added up here).
    """
    windows = sorted(
        ((_window_days(union_snapshot.as_of, months), months) for months in CROSS_SHOP_MONTHS),
        key=lambda window: window[0],
    )
    pairs = (
        select(RfmScore.customer_id, RfmSnapshot.shop_id, RfmScore.recency_days)
        .join(RfmSnapshot, RfmSnapshot.id == RfmScore.snapshot_id)
        .where(RfmScore.snapshot_id.in_([snapshot.id for snapshot in shop_snapshots]))
        .cte("pairs")
    )
    at_a, at_b = pairs.alias("at_a"), pairs.alias("at_b")
    older = case((at_a.c.recency_days >= at_b.c.recency_days, at_a.c.recency_days), else_=at_b.c.recency_days)
    shortest = case(
        *((older <= days, index) for index, (days, _months) in enumerate(windows[:-1])), else_=len(windows) - 1
    )
    counts: dict[tuple[int, int], list[int]] = {}
    for window_index, from_shop, to_shop, people in session.execute(
        select(shortest, at_a.c.shop_id, at_b.c.shop_id, func.count())
        .select_from(at_a)
        .join(at_b, at_b.c.customer_id == at_a.c.customer_id)
        .group_by(shortest, at_a.c.shop_id, at_b.c.shop_id)
    ):
        counts.setdefault((from_shop, to_shop), [0] * len(windows))[window_index] += people
    rows = []
    for (from_shop, to_shop), per_window in counts.items():
        running = 0
        for (_days, months), people in zip(windows, per_window, strict=True):
            running += people
            if running:
                rows.append(
                    {
                        "snapshot_id": union_snapshot.id,
                        "months": months,
                        "from_shop_id": from_shop,
                        "to_shop_id": to_shop,
                        "people": running,
                    }
                )
    session.execute(delete(RfmCrossShop).where(RfmCrossShop.snapshot_id == union_snapshot.id))
    if rows:
        session.execute(insert(RfmCrossShop), rows)
    union_snapshot.cross_shop = True
    session.flush()


def _window_days(as_of: date, months: int) -> int:
    """The most days since a visit inside the window of `months` months up to `as_of` (0: all history)."""
    if not months:
        return 1 << 30
    return (as_of - months_before(as_of, months)).days


def refresh_all(session: Session, *, as_of: date, timezone: str, now: datetime, created_by_id: int | None = None):
    """Union-wide and every active shop's snapshot for one date, and the cross-shop pair counts
    (the nightly job, the refresh button)."""
    scopes = [Scope(as_of=as_of, timezone=timezone)]
    scopes += [
        Scope(as_of=as_of, timezone=timezone, shop_id=shop_id)
        for shop_id in session.scalars(select(Shop.id).where(Shop.active).order_by(Shop.id))
    ]
    union, *shop_snapshots = [refresh(session, scope, now=now, created_by_id=created_by_id) for scope in scopes]
    store_cross_shop(session, union, shop_snapshots)
    return [union, *shop_snapshots]


def latest_snapshot(session: Session, shop_id: int | None = None) -> RfmSnapshot | None:
    return session.scalar(
        select(RfmSnapshot)
        .where(RfmSnapshot.shop_id.is_(None) if shop_id is None else RfmSnapshot.shop_id == shop_id)
        .order_by(RfmSnapshot.as_of.desc(), RfmSnapshot.id.desc())
        .limit(1)
    )


def customer_ref_sql():
    """The reference given at import, else the customer's latest card number, else '#id'."""
    latest_card = (
        select(Card.number).where(Card.customer_id == Customer.id).order_by(Card.id.desc()).limit(1).scalar_subquery()
    )
    return func.coalesce(Customer.reference, latest_card, "#" + cast(Customer.id, String))


def safe_cell(value):
    """Spreadsheet formula injection: text starting with = + - @ tab or CR gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_rows(session: Session, snapshot_id: int):
    """The snapshot's rows in export order, streamed from the database."""
    statement = (
        select(
            customer_ref_sql(),
            RfmScore.recency_days,
            RfmScore.frequency,
            RfmScore.monetary_cents,
            RfmScore.r,
            RfmScore.f,
            RfmScore.m,
            RfmScore.segment,
        )
        .join(Customer, Customer.id == RfmScore.customer_id)
        .where(RfmScore.snapshot_id == snapshot_id)
        .order_by(RfmScore.customer_id)
    )
    yield from session.execute(statement.execution_options(yield_per=5000))


def export_csv(session: Session, snapshot_id: int, stream) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    count = 0
    for row in export_rows(session, snapshot_id):
        writer.writerow([safe_cell(value) for value in row])
        count += 1
    return count
