"""Figures of the back office dashboards, computed by the database.

Shared by the pages, the API and the CLI: plain functions over a session, never
importing Flask. Every figure is one SQL aggregate (GROUP BY, COUNT ... FILTER,
SUM, window functions); Python only arranges the few rows that come back.

- RFM figures (segment sizes, the R x FM grid, distributions, movement between
  two dates) read the scores stored by `rfm.refresh` (table rfm_score): a page
  never recomputes RFM. A snapshot is union-wide (shop_id NULL) or of one shop.
- Cross-shop prescription counts, over an analysis window, the customers of shop A
  (at least one non-void visit at A in the window) who also visited each shop B. The
  counts are read from those stored with the latest union-wide snapshot (rfm_cross_shop,
  written by `rfm.refresh`) when the window ends on its date, else computed from the
  visits; the lists of customers of A who never visited B are read from the visits.
- Zone coverage counts the people of the shared file by postcode against the
  residents entered by the admin.

Lists of people are paginated in SQL and carry their total through
`COUNT(*) OVER ()`, so one query serves a page.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from webapp.domain import audit, exports, rfm
from webapp.domain.errors import DomainError
from webapp.models import (
    Card,
    Customer,
    RfmCrossShop,
    RfmScore,
    RfmSnapshot,
    SavedTarget,
    SavedTargetMember,
    Shop,
    Visit,
    ZonePostcode,
)

MAX_PER_PAGE = 200
ABSENT = "none"  # movement: the person is in only one of the two snapshots
WINDOW_MONTHS = tuple(months for months in rfm.CROSS_SHOP_MONTHS if months)  # None: all history


class InvalidZone(DomainError):
    code = "invalid_zone"


class SameShop(DomainError):
    code = "same_shop"


def _int_div(numerator, denominator):
    """Integer division in SQL (both engines truncate integers; operands here are never negative)."""
    return numerator.op("/", precedence=100, return_type=Integer)(denominator)


def fm_sql(score=RfmScore):
    """FM = the mean of F and M rounded half up, as in rfm.fm_score."""
    return _int_div(score.f + score.m + 1, 2)


# Snapshots


def snapshots(session: Session, shop_id: int | None) -> list[RfmSnapshot]:
    """The snapshots of one scope, newest first."""
    return list(
        session.scalars(
            select(RfmSnapshot)
            .where(_scope_condition(shop_id))
            .order_by(RfmSnapshot.as_of.desc(), RfmSnapshot.id.desc())
        )
    )


def _scope_condition(shop_id: int | None):
    return RfmSnapshot.shop_id.is_(None) if shop_id is None else RfmSnapshot.shop_id == shop_id


def snapshot_in_scope(session: Session, snapshot_id: int | None, shop_id: int | None) -> RfmSnapshot | None:
    """The given snapshot if it belongs to the scope; the latest of the scope when no id is given."""
    if snapshot_id is None:
        return rfm.latest_snapshot(session, shop_id)
    return session.scalar(select(RfmSnapshot).where(RfmSnapshot.id == snapshot_id, _scope_condition(shop_id)))


# 1 and 2. Segment sizes and the R x FM grid, from one GROUP BY over the snapshot.


@dataclass(frozen=True)
class SegmentFigure:
    code: str
    people: int
    monetary_cents: int
    people_share: float
    monetary_share: float


@dataclass(frozen=True)
class GridCell:
    r: int
    fm: int
    segment: str
    people: int
    share: float


@dataclass(frozen=True)
class Overview:
    people: int
    monetary_cents: int
    segments: list[SegmentFigure]
    grid: list[list[GridCell]]  # rows R = 5 .. 1, columns FM = 1 .. 5

    @property
    def largest_cell(self) -> int:
        return max((cell.people for row in self.grid for cell in row), default=0)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def overview(session: Session, snapshot_id: int) -> Overview:
    """Segment sizes (people, share of people, share of spend) and the 5 x 5 grid of a snapshot.

    One scan of the snapshot grouped by the grid cell (a single integer key, R x 10 + FM: 25 groups);
    each cell's segment is read from the stored scores (MIN(segment): one segment per cell).
    """
    cell = (RfmScore.r * 10 + fm_sql()).label("cell")
    rows = session.execute(
        select(cell, func.count(), func.sum(RfmScore.monetary_cents), func.min(RfmScore.segment))
        .where(RfmScore.snapshot_id == snapshot_id)
        .group_by(cell)
    ).all()
    people = sum(int(row[1]) for row in rows)
    monetary = sum(int(row[2] or 0) for row in rows)
    by_segment: dict[str, list[int]] = {code: [0, 0] for code in rfm.SEGMENTS}
    by_cell: dict[tuple[int, int], int] = {}
    for key, count, spent, segment in rows:
        totals = by_segment.setdefault(segment, [0, 0])
        totals[0] += int(count)
        totals[1] += int(spent or 0)
        by_cell[divmod(int(key), 10)] = int(count)
    segments = [
        SegmentFigure(code, count, spent, _share(count, people), _share(spent, monetary))
        for code, (count, spent) in by_segment.items()
    ]
    grid = [
        [
            GridCell(r, fm, rfm.SEGMENT_GRID[(r, fm)], by_cell.get((r, fm), 0), _share(by_cell.get((r, fm), 0), people))
            for fm in range(1, 6)
        ]
        for r in range(5, 0, -1)
    ]
    return Overview(people, monetary, segments, grid)


# 3. Distributions of recency, frequency and monetary value.


@dataclass(frozen=True)
class Bucket:
    low: int
    high: int | None  # inclusive; None: and above
    count: int


@dataclass(frozen=True)
class Distributions:
    people: int
    visits: int
    monetary_cents: int
    recency: list[Bucket]
    frequency: list[Bucket]
    monetary: list[Bucket]  # bounds in cents

    @property
    def mean_basket_cents(self) -> int:
        return round(self.monetary_cents / self.visits) if self.visits else 0


RECENCY_BOUNDS = (0, 8, 31, 91, 181, 366, 731)  # days: 0-7, 8-30, ..., 731 and more
FREQUENCY_BOUNDS = (1, 2, 3, 5, 10, 20, 50)  # visits: 1, 2, 3-4, 5-9, ...
MONETARY_BOUNDS = (0, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000)  # cents: < 10 EUR, 10-49.99 EUR, ...


def _bucket_counts(column, bounds: Sequence[int]) -> list:
    counts = []
    for index, low in enumerate(bounds):
        high = bounds[index + 1] if index + 1 < len(bounds) else None
        condition = column >= low if high is None else and_(column >= low, column < high)
        counts.append(func.count().filter(condition))
    return counts


def _buckets(bounds: Sequence[int], counts: Sequence[int]) -> list[Bucket]:
    return [
        Bucket(low, bounds[index + 1] - 1 if index + 1 < len(bounds) else None, int(count))
        for index, (low, count) in enumerate(zip(bounds, counts, strict=True))
    ]


def distributions(session: Session, snapshot_id: int) -> Distributions:
    """The three histograms and the totals of a snapshot in a single scan (COUNT(*) FILTER per bucket)."""
    columns = [
        func.count(),
        func.coalesce(func.sum(RfmScore.frequency), 0),
        func.coalesce(func.sum(RfmScore.monetary_cents), 0),
        *_bucket_counts(RfmScore.recency_days, RECENCY_BOUNDS),
        *_bucket_counts(RfmScore.frequency, FREQUENCY_BOUNDS),
        *_bucket_counts(RfmScore.monetary_cents, MONETARY_BOUNDS),
    ]
    row = session.execute(select(*columns).where(RfmScore.snapshot_id == snapshot_id)).one()
    people, visits, monetary = int(row[0]), int(row[1]), int(row[2])
    values = list(row[3:])
    recency = values[: len(RECENCY_BOUNDS)]
    frequency = values[len(RECENCY_BOUNDS) : len(RECENCY_BOUNDS) + len(FREQUENCY_BOUNDS)]
    monetary_counts = values[len(RECENCY_BOUNDS) + len(FREQUENCY_BOUNDS) :]
    return Distributions(
        people,
        visits,
        monetary,
        _buckets(RECENCY_BOUNDS, recency),
        _buckets(FREQUENCY_BOUNDS, frequency),
        _buckets(MONETARY_BOUNDS, monetary_counts),
    )


# Lists of people


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class PersonRow:
    customer_id: int
    first_name: str | None
    last_name: str | None
    reference: str
    r: int
    f: int
    m: int
    recency_days: int
    frequency: int
    monetary_cents: int
    segment: str
    previous_segment: str | None = None


def _clamp(page: int, per_page: int) -> tuple[int, int]:
    return max(1, page), max(1, min(per_page, MAX_PER_PAGE))


def _paginate(session: Session, statement, page: int, per_page: int, make_row) -> Page:
    """One query: the page's rows, each carrying the total through COUNT(*) OVER ()."""
    page, per_page = _clamp(page, per_page)
    result = session.execute(
        statement.add_columns(func.count().over().label("total")).limit(per_page).offset((page - 1) * per_page)
    ).all()
    if not result and page > 1:  # past the end: the total is still needed for the pager
        total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
        return Page([], int(total or 0), page, per_page)
    total = int(result[0].total) if result else 0
    return Page([make_row(row) for row in result], total, page, per_page)


def _person_columns(score, previous=None, segment=None):
    return (
        Customer.id.label("customer_id"),
        Customer.first_name,
        Customer.last_name,
        rfm.customer_ref_sql().label("reference"),
        score.r,
        score.f,
        score.m,
        score.recency_days,
        score.frequency,
        score.monetary_cents,
        (score.segment if segment is None else literal(segment, String)).label("segment"),
        (previous.segment if previous is not None else cast(null(), String)).label("previous_segment"),
    )


def _person_row(row) -> PersonRow:
    return PersonRow(*row[:12])


def _segment_statement(snapshot_id: int, segment: str):
    return (
        select(*_person_columns(RfmScore))
        .join(Customer, Customer.id == RfmScore.customer_id)
        .where(RfmScore.snapshot_id == snapshot_id, RfmScore.segment == segment)
        .order_by(RfmScore.monetary_cents.desc(), RfmScore.customer_id)
    )


def segment_members(session: Session, snapshot_id: int, segment: str, *, page: int = 1, per_page: int = 50) -> Page:
    """The people of one segment of a snapshot, biggest spenders first."""
    return _paginate(session, _segment_statement(snapshot_id, segment), page, per_page, _person_row)


def _export_rows(
    session: Session, statement, segment_labels: Mapping[str, str], *, with_previous: bool = False
) -> Iterator[tuple]:
    """reference, first name, last name, R, F, M, segment, recency, frequency, monetary (cents)
    [, previous segment]; segments as their labels."""
    for row in session.execute(statement.execution_options(yield_per=2000)):
        person = _person_row(row)
        values = (
            person.reference,
            person.first_name or "",
            person.last_name or "",
            person.r,
            person.f,
            person.m,
            str(segment_labels.get(person.segment, person.segment)),
            person.recency_days,
            person.frequency,
            person.monetary_cents,
        )
        if with_previous:
            previous = person.previous_segment or ABSENT
            values += (str(segment_labels.get(previous, previous)),)
        yield values


def _export(
    session: Session,
    statement,
    *,
    fmt: str,
    header: Sequence[str],
    segment_labels: Mapping[str, str],
    title: str,
    by_id: int | None,
    now: datetime,
    list_name: str,
    with_previous: bool = False,
    **detail,
) -> tuple[bytes, int]:
    rows = _export_rows(session, statement, segment_labels, with_previous=with_previous)
    data, count = exports.export(fmt, header, rows, title=title)
    audit.record(session, account_id=by_id, action="export", now=now, list=list_name, rows=count, format=fmt, **detail)
    return data, count


def export_segment(
    session: Session,
    snapshot: RfmSnapshot,
    segment: str,
    *,
    fmt: str,
    header: Sequence[str],
    segment_labels: Mapping[str, str],
    by_id: int | None,
    now: datetime,
) -> tuple[bytes, int]:
    """A segment's people as CSV or XLSX (columns as `header`, see _export_rows), recorded in the audit log."""
    return _export(
        session,
        _segment_statement(snapshot.id, segment),
        fmt=fmt,
        header=header,
        segment_labels=segment_labels,
        title=segment,
        by_id=by_id,
        now=now,
        list_name=f"segment:{segment}",
        snapshot_id=snapshot.id,
        as_of=snapshot.as_of.isoformat(),
        **({"shop_id": snapshot.shop_id} if snapshot.shop_id is not None else {}),
    )


# 4. Movement between two snapshots of one scope.


@dataclass(frozen=True)
class Movement:
    counts: dict[tuple[str, str], int]  # (segment before or ABSENT, segment after or ABSENT) -> people
    rows: list[str] = field(default_factory=list)  # segments before, in SEGMENTS order, then ABSENT
    columns: list[str] = field(default_factory=list)

    def count(self, before: str, after: str) -> int:
        return self.counts.get((before, after), 0)

    def row_total(self, before: str) -> int:
        return sum(count for (was, _after), count in self.counts.items() if was == before)

    def column_total(self, after: str) -> int:
        return sum(count for (_before, became), count in self.counts.items() if became == after)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unchanged(self) -> int:
        return sum(count for (was, became), count in self.counts.items() if was == became and was != ABSENT)


def movement(session: Session, before_id: int, after_id: int) -> Movement:
    """From-segment x to-segment counts between two snapshots of one scope.

    One GROUP BY over the later snapshot left-joined to the earlier one on the primary key
    (newcomers have no earlier segment); the people of the earlier snapshot absent from the
    later one are its segment sizes (read from the segment index) minus those found.
    """
    before, after = aliased(RfmScore), aliased(RfmScore)
    joined = session.execute(
        select(before.segment, after.segment, func.count())
        .select_from(after)
        .outerjoin(before, and_(before.snapshot_id == before_id, before.customer_id == after.customer_id))
        .where(after.snapshot_id == after_id)
        .group_by(before.segment, after.segment)
    ).all()
    counts = {(was or ABSENT, became): int(count) for was, became, count in joined}
    earlier = session.execute(
        select(RfmScore.segment, func.count()).where(RfmScore.snapshot_id == before_id).group_by(RfmScore.segment)
    ).all()
    for segment, count in earlier:
        found = sum(n for (was, _became), n in counts.items() if was == segment)
        if count > found:
            counts[(segment, ABSENT)] = int(count) - found
    order = [*rfm.SEGMENTS, ABSENT]
    return Movement(
        counts,
        [code for code in order if code != ABSENT or any(was == ABSENT for was, _ in counts)],
        [code for code in order if code != ABSENT or any(became == ABSENT for _, became in counts)],
    )


def _movement_statement(before_id: int, after_id: int, was: str, became: str):
    before, after = aliased(RfmScore), aliased(RfmScore)
    if became == ABSENT:  # people of the earlier snapshot missing from the later one: their earlier figures
        statement = (
            select(*_person_columns(before, before, segment=ABSENT))
            .join(Customer, Customer.id == before.customer_id)
            .where(
                before.snapshot_id == before_id,
                ~exists().where(after.snapshot_id == after_id, after.customer_id == before.customer_id),
            )
        )
        if was != ABSENT:
            statement = statement.where(before.segment == was)
        return statement.order_by(before.monetary_cents.desc(), before.customer_id)
    statement = (
        select(*_person_columns(after, before))
        .join(Customer, Customer.id == after.customer_id)
        .outerjoin(before, and_(before.snapshot_id == before_id, before.customer_id == after.customer_id))
        .where(after.snapshot_id == after_id, after.segment == became)
    )
    statement = statement.where(before.customer_id.is_(None) if was == ABSENT else before.segment == was)
    return statement.order_by(after.monetary_cents.desc(), after.customer_id)


def movement_members(
    session: Session, before_id: int, after_id: int, was: str, became: str, *, page: int = 1, per_page: int = 50
) -> Page:
    """The people of one cell of the movement matrix (e.g. who went from loyal to at_risk)."""
    return _paginate(session, _movement_statement(before_id, after_id, was, became), page, per_page, _person_row)


def export_movement(
    session: Session,
    before: RfmSnapshot,
    after: RfmSnapshot,
    was: str,
    became: str,
    *,
    fmt: str,
    header: Sequence[str],
    segment_labels: Mapping[str, str],
    by_id: int | None,
    now: datetime,
) -> tuple[bytes, int]:
    return _export(
        session,
        _movement_statement(before.id, after.id, was, became),
        fmt=fmt,
        header=header,
        segment_labels=segment_labels,
        title=f"{was}-{became}",
        by_id=by_id,
        now=now,
        list_name=f"movement:{was}:{became}",
        with_previous=True,
        snapshot_ids=[before.id, after.id],
        **({"shop_id": after.shop_id} if after.shop_id is not None else {}),
    )


# 5. Cross-shop prescription over the visits of an analysis window.


@dataclass(frozen=True)
class Window:
    """Local dates [start, end] in the union's time zone; start None: all history."""

    end: date
    start: date | None = None
    months: int | None = None
    timezone: str = "Europe/Paris"

    def bounds_utc(self) -> tuple[datetime | None, datetime]:
        return rfm.Scope(as_of=self.end, timezone=self.timezone, window_start=self.start).bounds_utc()

    def as_params(self) -> dict:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat(),
            "months": self.months,
            "timezone": self.timezone,
        }


def window_of(today: date, months: int | None, timezone: str) -> Window:
    """The `months` last months up to `today` included (e.g. 12: 2025-06-16 .. 2026-06-15), or all history."""
    if months is None:
        return Window(end=today, timezone=timezone)
    return Window(end=today, start=rfm.months_before(today, months), months=months, timezone=timezone)


def cross_shop_snapshot(session: Session) -> RfmSnapshot | None:
    """The latest union-wide snapshot that stored cross-shop pair counts."""
    return session.scalar(
        select(RfmSnapshot)
        .where(RfmSnapshot.shop_id.is_(None), RfmSnapshot.window_start.is_(None), RfmSnapshot.cross_shop)
        .order_by(RfmSnapshot.as_of.desc(), RfmSnapshot.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class CrossShopRow:
    shop_id: int
    shop_name: str
    shared: int  # customers of A who also visit this shop

    missing: int  # customers of A who never visited this shop in the window
    share: float


@dataclass(frozen=True)
class CrossShop:
    from_shop_id: int
    customers: int  # customers of A in the window
    rows: list[CrossShopRow]

    @property
    def largest(self) -> int:
        return max((row.shared for row in self.rows), default=0)


def _plain(column, session: Session):
    """SQLite: the column behind a unary `+`, the same value that its planner will not look up in an index.

    It steers SQLite to the covering partial index ix_visit_rfm_shop (shop, customer, time, amount)
    instead of ix_visit_shop_time, which would fetch every visit row from the table.
    """
    if session.get_bind().dialect.name != "sqlite":
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _window_conditions(session: Session, window: Window, visit=Visit) -> list:
    start, end = window.bounds_utc()
    visited_at = _plain(visit.visited_at, session)
    conditions = [visit.voided_at.is_(None), visited_at < end]
    if start is not None:
        conditions.append(visited_at >= start)
    return conditions


def _stored_pairs(session: Session, from_shop_id: int, window: Window) -> dict[int, int] | None:
    """{shop B: customers of A also at B} stored with the snapshot of the window's end (A itself included)."""
    months = window.months or 0
    if months not in rfm.CROSS_SHOP_MONTHS:
        return None
    snapshot_id = session.scalar(
        select(RfmSnapshot.id)
        .where(
            RfmSnapshot.shop_id.is_(None),
            RfmSnapshot.window_start.is_(None),
            RfmSnapshot.cross_shop,
            RfmSnapshot.as_of == window.end,
        )
        .order_by(RfmSnapshot.id.desc())
        .limit(1)
    )
    if snapshot_id is None:
        return None
    return dict(
        session.execute(
            select(RfmCrossShop.to_shop_id, RfmCrossShop.people).where(
                RfmCrossShop.snapshot_id == snapshot_id,
                RfmCrossShop.months == months,
                RfmCrossShop.from_shop_id == from_shop_id,
            )
        ).all()
    )


def _live_pairs(session: Session, from_shop_id: int, window: Window) -> dict[int, int]:
    """{shop B: customers of A also at B} from the visits (A itself included).

    One GROUP BY shop over the visits of the window whose customer is one of A's customers,
    counting DISTINCT customers: the distinct (customer, shop) pairs of A's customers, without
    materialising them (a hashed semi-join on PostgreSQL; on SQLite one pass over the covering
    index ix_visit_rfm_shop, already ordered by (shop, customer)).
    """
    of_a = aliased(Visit)
    customers_of_a = select(of_a.customer_id).where(
        of_a.shop_id == from_shop_id, *_window_conditions(session, window, of_a)
    )
    shared = dict(
        session.execute(
            select(Visit.shop_id, func.count(func.distinct(Visit.customer_id)))
            .where(
                Visit.shop_id.is_not(None),
                Visit.shop_id != from_shop_id,
                *_window_conditions(session, window),
                _plain(Visit.customer_id, session).in_(customers_of_a),
            )
            .group_by(Visit.shop_id)
        ).all()
    )
    shared[from_shop_id] = session.scalar(
        select(func.count(func.distinct(of_a.customer_id))).where(
            of_a.shop_id == from_shop_id, *_window_conditions(session, window, of_a)
        )
    )
    return shared


def cross_shop(session: Session, from_shop_id: int, window: Window) -> CrossShop:
    """For shop A and every other active shop B: how many customers of A also visit B."""
    shared = _stored_pairs(session, from_shop_id, window)
    if shared is None:
        shared = _live_pairs(session, from_shop_id, window)
    customers = int(shared.get(from_shop_id) or 0)
    shops = session.execute(
        select(Shop.id, Shop.name).where(Shop.active, Shop.id != from_shop_id).order_by(Shop.name, Shop.id)
    ).all()
    rows = []
    for shop_id, name in shops:
        count = int(shared.get(shop_id, 0))
        rows.append(CrossShopRow(shop_id, name, count, customers - count, _share(count, customers)))
    rows.sort(key=lambda row: (-row.shared, row.shop_name))
    return CrossShop(from_shop_id, customers, rows)


@dataclass(frozen=True)
class ProspectRow:
    customer_id: int
    first_name: str | None
    last_name: str | None
    reference: str
    visits: int
    monetary_cents: int
    last_visit_at: datetime | date  # a date when read from the snapshots


def _visits_at(session: Session, shop_id: int, window: Window, visit=Visit) -> list:
    return [visit.shop_id == shop_id, *_window_conditions(session, window, visit)]


def _shop_snapshot_id(session: Session, shop_id: int, as_of: date) -> int | None:
    """The all-history snapshot of a shop as of a date, if one was stored."""
    return session.scalar(
        select(RfmSnapshot.id)
        .where(RfmSnapshot.shop_id == shop_id, RfmSnapshot.as_of == as_of, RfmSnapshot.window_start.is_(None))
        .order_by(RfmSnapshot.id.desc())
        .limit(1)
    )


def _never_visited_rows(session: Session, from_shop_id: int, to_shop_id: int, window: Window):
    """Customers of A who never visited B in the window: (customer_id, visits, monetary, last_day) at A.

    Over all history, when the shop snapshots of the window's date are stored (the nightly
    refresh), they already hold each customer's visits, spend and recency at each shop: the list
    is then read from them by primary key; otherwise (or for a shorter window) from the visits.
    """
    if from_shop_id == to_shop_id:
        raise SameShop()
    if window.start is None:
        at_a = _shop_snapshot_id(session, from_shop_id, window.end)
        at_b = _shop_snapshot_id(session, to_shop_id, window.end)
        if at_a is not None and at_b is not None:
            of_b = aliased(RfmScore)
            return (
                select(
                    RfmScore.customer_id,
                    RfmScore.frequency.label("visits"),
                    RfmScore.monetary_cents.label("monetary"),
                    RfmScore.recency_days.label("recency_days"),
                )
                .where(
                    RfmScore.snapshot_id == at_a,
                    ~exists().where(of_b.snapshot_id == at_b, of_b.customer_id == RfmScore.customer_id),
                )
                .subquery("at_a")
            )
    # Each customer of A is totalled first, then looked for at B once (not once per visit at A).
    totals = (
        select(
            Visit.customer_id,
            func.count().label("visits"),
            func.sum(Visit.amount_cents).label("monetary"),
            func.max(Visit.visited_at).label("last_at"),
        )
        .where(*_visits_at(session, from_shop_id, window))
        .group_by(Visit.customer_id)
        .subquery("totals_at_a")
    )
    at_b = aliased(Visit)
    seen_at_b = exists().where(at_b.customer_id == totals.c.customer_id, *_visits_at(session, to_shop_id, window, at_b))
    return select(totals).where(~seen_at_b).subquery("at_a")


def never_visited(
    session: Session, from_shop_id: int, to_shop_id: int, window: Window, *, page: int = 1, per_page: int = 50
) -> Page:
    """Customers of A who never visited B in the window, with their visits and spend at A, biggest first."""
    at_a = _never_visited_rows(session, from_shop_id, to_shop_id, window)
    from_snapshot = "recency_days" in at_a.c
    statement = (
        select(
            Customer.id,
            Customer.first_name,
            Customer.last_name,
            rfm.customer_ref_sql().label("reference"),
            at_a.c.visits,
            at_a.c.monetary,
            at_a.c.recency_days if from_snapshot else at_a.c.last_at,
        )
        .join(at_a, at_a.c.customer_id == Customer.id)
        .order_by(at_a.c.monetary.desc(), Customer.id)
    )

    def make_row(row) -> ProspectRow:
        last = window.end - timedelta(days=int(row[6])) if from_snapshot else row[6]
        return ProspectRow(row[0], row[1], row[2], row[3], int(row[4]), int(row[5] or 0), last)

    return _paginate(session, statement, page, per_page, make_row)


def save_cross_shop_target(
    session: Session,
    from_shop_id: int,
    to_shop_id: int,
    window: Window,
    *,
    name: str,
    by_id: int | None,
    now: datetime,
) -> SavedTarget:
    """Save the customers of A who never visited B as a target for mailings (INSERT ... SELECT)."""
    people = _never_visited_rows(session, from_shop_id, to_shop_id, window)
    target = SavedTarget(
        name=name.strip()[:120],
        kind="cross_shop",
        params={"from_shop": from_shop_id, "to_shop": to_shop_id, "window": window.as_params()},
        size=0,
        shop_id=from_shop_id,
        created_by_id=by_id,
        created_at=now,
    )
    session.add(target)
    session.flush()
    members = select(literal(target.id), people.c.customer_id)
    session.execute(insert(SavedTargetMember).from_select(["target_id", "customer_id"], members))
    size = session.scalar(select(func.count()).where(SavedTargetMember.target_id == target.id)) or 0
    session.execute(update(SavedTarget).where(SavedTarget.id == target.id).values(size=size))
    session.refresh(target)
    audit.record(
        session,
        account_id=by_id,
        action="save_target",
        now=now,
        object_type="saved_target",
        object_id=target.id,
        kind="cross_shop",
        rows=size,
    )
    return target


# 6. Zone coverage: cardholders and prospects by postcode against the residents.


@dataclass(frozen=True)
class ZoneRow:
    postcode: str | None  # None: people without a postcode
    label: str
    residents: int | None
    cardholders: int
    prospects: int

    @property
    def penetration(self) -> float | None:
        return self.cardholders / self.residents if self.residents else None

    @property
    def unknown(self) -> bool:
        """A postcode of the zone where the union has no cardholder yet."""
        return self.residents is not None and self.cardholders == 0


@dataclass(frozen=True)
class Coverage:
    rows: list[ZoneRow]

    @property
    def residents(self) -> int:
        return sum(row.residents or 0 for row in self.rows)

    @property
    def cardholders_in_zone(self) -> int:
        return sum(row.cardholders for row in self.rows if row.residents is not None)

    @property
    def penetration(self) -> float | None:
        return self.cardholders_in_zone / self.residents if self.residents else None

    @property
    def largest_penetration(self) -> float:
        return max((row.penetration or 0.0 for row in self.rows), default=0.0)


def _has_card(session: Session, *conditions):
    """Whether the person has a card (matching `conditions`), in the form each engine runs fastest:
    PostgreSQL hashes the card owners once (IN), SQLite probes its card index per person (EXISTS)."""
    if session.get_bind().dialect.name == "sqlite":
        return exists().where(Card.customer_id == Customer.id, *conditions)
    return Customer.id.in_(select(Card.customer_id).where(*conditions))


def coverage(session: Session) -> Coverage:
    """People of the file by postcode (an active card: cardholder; no card at all: prospect), beside the
    residents of the zone; postcodes with people but no residents figure are included too.

    One GROUP BY postcode over the people, each flagged as having an active card, or any card;
    then the zone's postcodes joined both ways (a LEFT JOIN plus an anti-join: no FULL JOIN needed).
    """
    flagged = (
        select(
            func.nullif(func.trim(Customer.postcode), "").label("postcode"),
            _has_card(session, Card.status == "active").label("cardholder"),
            _has_card(session).label("carded"),
        )
        .where(Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))
        .subquery("flagged")
    )
    people = (
        select(
            flagged.c.postcode,
            func.count().filter(flagged.c.cardholder).label("cardholders"),
            func.count().filter(~flagged.c.carded).label("prospects"),
        )
        .group_by(flagged.c.postcode)
        .cte("people")
    )
    in_zone = select(
        ZonePostcode.postcode,
        ZonePostcode.label,
        ZonePostcode.residents,
        func.coalesce(people.c.cardholders, 0),
        func.coalesce(people.c.prospects, 0),
    ).outerjoin(people, people.c.postcode == ZonePostcode.postcode)
    outside = select(
        people.c.postcode,
        literal("", String),
        cast(null(), Integer),
        people.c.cardholders,
        people.c.prospects,
    ).where(
        or_(people.c.postcode.is_(None), ~exists().where(ZonePostcode.postcode == people.c.postcode)),
        or_(people.c.cardholders > 0, people.c.prospects > 0),
    )
    rows = [
        ZoneRow(row[0], row[1] or "", row[2], int(row[3]), int(row[4]))
        for row in session.execute(union_all(in_zone, outside))
    ]
    rows.sort(key=lambda row: (row.postcode is None, row.residents is None, row.postcode or ""))
    return Coverage(rows)


def save_zone(session: Session, *, postcode: str, label: str, residents: int, now: datetime) -> ZonePostcode:
    """Add a postcode of the zone or change its label and residents (flushes, never commits)."""
    postcode = postcode.strip().upper()
    if not postcode or len(postcode) > 10 or residents < 0:
        raise InvalidZone()
    zone = session.get(ZonePostcode, postcode)
    if zone is None:
        zone = ZonePostcode(postcode=postcode)
        session.add(zone)
    zone.label = label.strip()[:80]
    zone.residents = residents
    zone.updated_at = now
    session.flush()
    return zone


def zone(session: Session, postcode: str) -> ZonePostcode | None:
    return session.get(ZonePostcode, postcode.strip().upper())
