"""The verifiable draw of a contest: commit, draw, publish, verify.

Anyone can check a draw with the data published on the contest page, without trusting the
server. The procedure (version 1):

1. **Freeze** (`commit_draw`, after the end, once no entry waits for moderation). The eligible
   entries (status accepted, answer not wrong for a question contest, person not erased) are
   listed in increasing entry id: L[0], ..., L[n-1], each a pair (entry id, person id), where
   the person id is the record the entrant's record was merged into, if any, so that one real
   person counts as one. The list is stored (`contest_draw_entry`, position = index) and its
   hash published: the SHA-256, in lower-case hex, of the UTF-8 text made of one line
   `entry_id,person_id\\n` per element, in order (`frozen_list_hash`).
2. **Commit.** At the same moment a secret seed of 32 random bytes is drawn (`secrets`), and its
   commitment published: SHA-256 of the 32 bytes, hex. The seed is stored but shown nowhere
   until the draw. From then on the list cannot change: moderation, entries and a second
   commitment are refused.
3. **Draw** (`run_draw`). Random numbers come from SHA-256 in counter mode over the seed:
   R_k = the first 8 bytes, read as a big-endian unsigned integer, of
   SHA-256(seed ‖ "quartier-draw-v1" ‖ k as 8 bytes big-endian), for k = 0, 1, 2, ...
   A uniform integer below n is drawn by rejection: with limit = 2^64 − (2^64 mod n), take the
   next R_k, discard it while R_k ≥ limit, and answer R_k mod n. Each of 0..n−1 then has exactly
   limit / n chances out of limit: no modulo bias. The winners are drawn one after another: a
   uniform position p below n is drawn; if L[p] was already drawn, or its person has already
   been drawn, it is skipped and another position drawn; otherwise L[p] is the next winner
   (`draw_order`). The draw stops after as many winners as asked, or when every person is drawn.
   Each valid entry is one chance (a daily contest gives one chance per day entered), and nobody
   wins twice.
4. **Prizes.** Prizes are taken in their order on the contest page, each as many times as its
   quantity: the first winners receive them in that order; the next winners are reserve
   winners, called in order for a prize nobody claims.
5. **Publish and verify.** After the draw the seed is published (hex). `verify_draw` (and
   `flask --app webapp contests verify-draw ID`) checks that SHA-256(seed) equals the
   commitment, that the stored list hashes to the published hash, and recomputes the winners
   from the seed and the list.
"""

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from webapp.domain import audit
from webapp.domain.contests import contest_state, prizes_of, town_label
from webapp.domain.errors import DrawRefused
from webapp.models import Account, Contest, ContestDrawEntry, ContestEntry, ContestPrize, ContestWinner, Customer

ALGORITHM = "quartier-draw-v1"
SEED_BYTES = 32
ANONYMOUS = "Gagnant·e anonyme"
ORGANISER_ROLES = ("organiser", "admin")
_TWO_64 = 1 << 64


# The pure algorithm.


def random_stream(seed: bytes) -> Callable[[], int]:
    """R_0, R_1, ...: 64-bit integers from SHA-256(seed ‖ ALGORITHM ‖ k) (see the module docstring)."""
    counter = 0
    tag = ALGORITHM.encode()

    def next64() -> int:
        nonlocal counter
        digest = hashlib.sha256(seed + tag + counter.to_bytes(8, "big")).digest()
        counter += 1
        return int.from_bytes(digest[:8], "big")

    return next64


def uniform_below(next64: Callable[[], int], n: int) -> int:
    """A uniform integer in [0, n) by rejection sampling (no modulo bias)."""
    if not 0 < n <= _TWO_64:
        raise ValueError("n must be between 1 and 2**64")
    limit = _TWO_64 - (_TWO_64 % n)
    while True:
        value = next64()
        if value < limit:
            return value % n


def draw_order(seed: bytes, frozen: Sequence[tuple[int, int]], count: int) -> list[int]:
    """The positions in `frozen` [(entry_id, person_id), ...] drawn in order, one per person, at most `count`."""
    n = len(frozen)
    people = len({person for _entry, person in frozen})
    wanted = min(count, people)
    next64 = random_stream(seed)
    drawn_positions: set[int] = set()
    drawn_people: set[int] = set()
    order: list[int] = []
    while len(order) < wanted:
        position = uniform_below(next64, n)
        person = frozen[position][1]
        if position in drawn_positions or person in drawn_people:
            continue
        drawn_positions.add(position)
        drawn_people.add(person)
        order.append(position)
    return order


def frozen_list_hash(frozen: Sequence[tuple[int, int]]) -> str:
    """SHA-256 (hex) of the lines `entry_id,person_id\\n`, in list order."""
    digest = hashlib.sha256()
    for entry_id, person_id in frozen:
        digest.update(f"{entry_id},{person_id}\n".encode())
    return digest.hexdigest()


def seed_commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def prize_slots(prizes: Sequence[ContestPrize]) -> list[int]:
    """One prize id per prize unit, in prize order (a quantity of 3 takes three consecutive winners)."""
    return [prize.id for prize in sorted(prizes, key=lambda p: p.position) for _ in range(prize.quantity)]


def assign(
    order: Sequence[int], frozen: Sequence[tuple[int, int]], slots: Sequence[int]
) -> list[tuple[int, int, int, int | None, bool]]:
    """(rank, entry_id, person_id, prize_id, reserve) for each drawn position."""
    rows = []
    for rank, position in enumerate(order, start=1):
        entry_id, person_id = frozen[position]
        prize_id = slots[rank - 1] if rank <= len(slots) else None
        rows.append((rank, entry_id, person_id, prize_id, rank > len(slots)))
    return rows


# With the database.


def _check_organiser(session: Session, by_id: int | None) -> None:
    if by_id is None:
        return
    role = session.scalar(select(Account.role).where(Account.id == by_id, Account.active.is_(True)))
    if role not in ORGANISER_ROLES:
        raise DrawRefused("forbidden")


def _lock(session: Session, contest: Contest) -> Contest:
    """Re-read the contest under a row lock: two organisers cannot commit or draw it twice."""
    return session.scalars(
        select(Contest).where(Contest.id == contest.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def eligible_condition(contest_id: int):
    """Accepted, not a wrong answer, person not erased (joined on Customer)."""
    return and_(
        ContestEntry.contest_id == contest_id,
        ContestEntry.status == "accepted",
        or_(ContestEntry.answer_correct.is_(None), ContestEntry.answer_correct.is_(True)),
        Customer.erased_at.is_(None),
    )


def frozen_list(session: Session, contest_id: int) -> list[tuple[int, int]]:
    """The stored frozen list [(entry_id, person_id), ...] in position order."""
    return [
        (entry_id, person_id)
        for entry_id, person_id in session.execute(
            select(ContestDrawEntry.entry_id, ContestDrawEntry.customer_id)
            .where(ContestDrawEntry.contest_id == contest_id)
            .order_by(ContestDrawEntry.position)
        )
    ]


def pending_count(session: Session, contest_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(ContestEntry)
        .where(ContestEntry.contest_id == contest_id, ContestEntry.status == "pending")
    )


def commit_draw(session: Session, contest: Contest, now: datetime, *, by_id: int | None = None) -> Contest:
    """Freeze the eligible entries and publish the commitment (see the module docstring)."""
    _check_organiser(session, by_id)
    contest = _lock(session, contest)
    state = contest_state(contest, now)
    if state in ("committed", "drawn"):
        raise DrawRefused("already_committed")
    if state != "ended":
        raise DrawRefused("not_ended")
    if not prizes_of(session, contest):
        raise DrawRefused("no_prizes")
    if pending_count(session, contest.id):
        raise DrawRefused("pending_entries")
    person = func.coalesce(Customer.merged_into_id, Customer.id)
    eligible = (
        select(
            ContestEntry.contest_id,
            (func.row_number().over(order_by=ContestEntry.id) - 1).label("position"),
            ContestEntry.id,
            person,
        )
        .join(Customer, Customer.id == ContestEntry.customer_id)
        .where(eligible_condition(contest.id))
    )
    session.execute(
        insert(ContestDrawEntry).from_select(["contest_id", "position", "entry_id", "customer_id"], eligible)
    )
    frozen = frozen_list(session, contest.id)
    if not frozen:
        raise DrawRefused("no_eligible_entries")
    seed = secrets.token_bytes(SEED_BYTES)
    contest.seed = seed.hex()
    contest.seed_commitment = seed_commitment(seed)
    contest.entries_hash = frozen_list_hash(frozen)
    contest.committed_at = now
    contest.updated_at = now
    session.flush()
    audit.record(
        session,
        account_id=by_id,
        action="contest_commit",
        now=now,
        object_type="contest",
        object_id=contest.id,
        entries=len(frozen),
        entries_hash=contest.entries_hash,
        seed_commitment=contest.seed_commitment,
    )
    return contest


def run_draw(
    session: Session, contest: Contest, now: datetime, reserves: int | None = None, *, by_id: int | None = None
) -> list[ContestWinner]:
    """Draw the winners (one per prize unit, in prize order) then `reserves` reserve winners (default: as
    many as prize units), and publish the seed (drawn_at)."""
    _check_organiser(session, by_id)
    contest = _lock(session, contest)
    state = contest_state(contest, now)
    if state == "drawn":
        raise DrawRefused("already_drawn")
    if state != "committed":
        raise DrawRefused("not_committed")
    slots = prize_slots(prizes_of(session, contest))
    if not slots:
        raise DrawRefused("no_prizes")
    reserves = len(slots) if reserves is None else max(0, int(reserves))
    frozen = frozen_list(session, contest.id)
    if frozen_list_hash(frozen) != contest.entries_hash:
        raise DrawRefused("not_committed")
    order = draw_order(bytes.fromhex(contest.seed), frozen, len(slots) + reserves)
    winners = [
        ContestWinner(
            contest_id=contest.id,
            rank=rank,
            entry_id=entry_id,
            customer_id=person_id,
            prize_id=prize_id,
            reserve=reserve,
        )
        for rank, entry_id, person_id, prize_id, reserve in assign(order, frozen, slots)
    ]
    session.add_all(winners)
    contest.drawn_at = now
    contest.updated_at = now
    session.flush()
    audit.record(
        session,
        account_id=by_id,
        action="contest_draw",
        now=now,
        object_type="contest",
        object_id=contest.id,
        winners=sum(not w.reserve for w in winners),
        reserves=sum(w.reserve for w in winners),
        seed=contest.seed,
    )
    return winners


# Verification.


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerifyReport:
    contest_id: int
    title: str = ""
    checks: list[Check] = field(default_factory=list)
    expected: list[tuple] = field(default_factory=list)
    actual: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def text(self) -> str:
        lines = [f"Contest #{self.contest_id}" + (f" « {self.title} »" if self.title else "")]
        for check in self.checks:
            detail = f": {check.detail}" if check.detail else ""
            lines.append(f"[{'OK' if check.ok else 'FAIL'}] {check.name}{detail}")
        if self.ok:
            lines.append("Result: the draw is verified: the published winners are those the published data gives.")
        else:
            lines.append("Result: the draw does NOT match the published data.")
        return "\n".join(lines)


def _seed_bytes(seed: str | None) -> bytes | None:
    try:
        value = bytes.fromhex(seed or "")
    except ValueError:
        return None
    return value if len(value) == SEED_BYTES else None


def verify_draw(session: Session, contest_id: int) -> VerifyReport:
    """Recompute the draw from the published seed and the frozen list; compare with the stored winners."""
    report = VerifyReport(contest_id=contest_id)
    contest = session.get(Contest, contest_id)
    if contest is None:
        report.checks.append(Check("contest exists", False, "no contest with this id"))
        return report
    report.title = contest.title
    if contest.committed_at is None or contest.drawn_at is None:
        report.checks.append(Check("draw published", False, "the contest has not been committed and drawn yet"))
        return report
    seed = _seed_bytes(contest.seed)
    seed_ok = seed is not None and secrets.compare_digest(seed_commitment(seed), contest.seed_commitment or "")
    report.checks.append(
        Check(
            "seed matches the commitment published before the draw",
            seed_ok,
            f"SHA-256(seed {contest.seed}) {'=' if seed_ok else '!='} {contest.seed_commitment}",
        )
    )
    frozen = frozen_list(session, contest.id)
    positions = list(
        session.scalars(
            select(ContestDrawEntry.position)
            .where(ContestDrawEntry.contest_id == contest.id)
            .order_by(ContestDrawEntry.position)
        )
    )
    computed = frozen_list_hash(frozen)
    list_ok = positions == list(range(len(frozen))) and computed == contest.entries_hash
    report.checks.append(
        Check(
            "frozen list matches the hash published before the draw",
            list_ok,
            f"{len(frozen)} entries, SHA-256 {computed} {'=' if list_ok else '!='} {contest.entries_hash}",
        )
    )
    report.checks.append(_eligibility_check(session, contest, frozen))

    slots = prize_slots(prizes_of(session, contest))
    report.actual = [
        tuple(row)
        for row in session.execute(
            select(
                ContestWinner.rank,
                ContestWinner.entry_id,
                ContestWinner.customer_id,
                ContestWinner.prize_id,
                ContestWinner.reserve,
            )
            .where(ContestWinner.contest_id == contest.id)
            .order_by(ContestWinner.rank)
        )
    ]
    if seed is not None and frozen:
        count = max(len(report.actual), len(slots))
        report.expected = assign(draw_order(seed, frozen, count), frozen, slots)
    report.checks.append(_winners_check(report.expected, report.actual))
    return report


def _eligibility_check(session: Session, contest: Contest, frozen: list[tuple[int, int]]) -> Check:
    """The list holds exactly the contest's eligible entries (statuses cannot change after the commitment)."""
    listed = {entry_id for entry_id, _person in frozen}
    eligible = set(
        session.scalars(
            select(ContestEntry.id)
            .join(Customer, Customer.id == ContestEntry.customer_id)
            .where(eligible_condition(contest.id))
        )
    )
    # A person may have their data erased after the commitment: their listed entry stays valid.
    erased_since = set(
        session.scalars(
            select(ContestEntry.id)
            .join(Customer, Customer.id == ContestEntry.customer_id)
            .where(ContestEntry.contest_id == contest.id, Customer.erased_at.is_not(None))
        )
    )
    intruders = listed - eligible - erased_since
    missing = eligible - listed
    ok = not intruders and not missing
    detail = "every listed entry is eligible and every eligible entry is listed"
    if not ok:
        detail = f"{len(intruders)} listed entries not eligible, {len(missing)} eligible entries missing"
    return Check("frozen list holds exactly the eligible entries", ok, detail)


def _winners_check(expected: list[tuple], actual: list[tuple]) -> Check:
    if not expected:
        return Check("winners recomputed from the seed", False, "nothing to recompute (no seed or no list)")
    if expected == actual:
        prizes = sum(not row[4] for row in actual)
        return Check(
            "winners recomputed from the seed",
            True,
            f"{prizes} winners and {len(actual) - prizes} reserve winners, in the published order",
        )
    for index in range(max(len(expected), len(actual))):
        want = expected[index] if index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        if want != got:
            break

    def describe(row):
        if row is None:
            return "nobody"
        kind = "reserve" if row[4] else f"prize {row[3]}"
        return f"entry {row[1]} (person {row[2]}, {kind})"

    return Check(
        "winners recomputed from the seed",
        False,
        f"rank {index + 1}: the seed gives {describe(want)}, the published result says {describe(got)}",
    )


# What the public and the organiser see.


@dataclass(frozen=True)
class PublicWinner:
    rank: int
    prize: str
    name: str | None
    town: str
    anonymous: bool

    @property
    def display(self) -> str:
        if self.anonymous:
            return ANONYMOUS
        return f"{self.name} ({self.town})" if self.town else (self.name or "")


def _short_name(first: str | None, last: str | None) -> str:
    first = (first or "").strip()
    last = (last or "").strip()
    return f"{first} {last[0].upper()}." if last else first


def public_winners(session: Session, contest: Contest) -> list[PublicWinner]:
    """The prize winners once drawn: first name, initial and town only with the entrant's consent."""
    if contest.drawn_at is None:
        return []
    rows = session.execute(
        select(ContestWinner.rank, ContestPrize.name, ContestEntry, Customer.first_name, Customer.last_name)
        .join(ContestEntry, ContestEntry.id == ContestWinner.entry_id)
        .join(Customer, Customer.id == ContestWinner.customer_id)
        .outerjoin(ContestPrize, ContestPrize.id == ContestWinner.prize_id)
        .where(ContestWinner.contest_id == contest.id, ContestWinner.reserve.is_(False))
        .order_by(ContestWinner.rank)
    ).all()
    winners = []
    for rank, prize, entry, first, last in rows:
        named = entry.public_name_consent and bool(first)
        winners.append(
            PublicWinner(
                rank=rank,
                prize=prize or "",
                name=_short_name(first, last) if named else None,
                town=town_label(session, entry) if named else "",
                anonymous=not named,
            )
        )
    return winners


def draw_results(session: Session, contest: Contest) -> list:
    """Every winner and reserve winner with the contact details the organiser needs (and who was notified)."""
    return session.execute(
        select(
            ContestWinner.id,
            ContestWinner.rank,
            ContestWinner.reserve,
            ContestWinner.notified_at,
            ContestWinner.entry_id,
            ContestWinner.customer_id,
            ContestPrize.name.label("prize_name"),
            Customer.first_name,
            Customer.last_name,
            Customer.email,
            Customer.phone,
            ContestEntry.postcode,
            ContestEntry.town,
        )
        .join(ContestEntry, ContestEntry.id == ContestWinner.entry_id)
        .join(Customer, Customer.id == ContestWinner.customer_id)
        .outerjoin(ContestPrize, ContestPrize.id == ContestWinner.prize_id)
        .where(ContestWinner.contest_id == contest.id)
        .order_by(ContestWinner.rank)
    ).all()


def mark_notified(session: Session, winner_ids: Sequence[int], now: datetime) -> None:
    for winner in session.scalars(select(ContestWinner).where(ContestWinner.id.in_(list(winner_ids)))):
        winner.notified_at = now
    session.flush()
