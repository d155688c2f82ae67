"""Figures of a contest (computed in SQL) and the export of its entries to CSV (formula-safe).

- entries per day: entries by the union-local day they were made;
- new prospects: people who entered as visitors unknown to the shared file (a person created by
  a contest, source 'contest') and whose first contest entry ever is in this contest;
- entrants who took a card: people whose card was issued after their first entry in this contest;
- entrants by postcode: distinct people per postcode given at entry.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from webapp.domain import audit
from webapp.domain.contests import PROSPECT_SOURCE
from webapp.domain.rfm import safe_cell
from webapp.models import Card, Contest, ContestEntry, ContestPrize, ContestWinner, Customer

EXPORT_HEADER = (
    "participation",
    "date",
    "statut",
    "prenom",
    "nom",
    "email",
    "telephone",
    "code_postal",
    "ville",
    "reponse_ou_texte",
    "reponse_juste",
    "signalements",
    "nom_public_accepte",
    "motif_refus",
    "modere_le",
    "rang_tirage",
    "lot",
)


def entries_per_day(session: Session, contest: Contest) -> list[tuple[date, int]]:
    return [
        (day, count)
        for day, count in session.execute(
            select(ContestEntry.entered_on, func.count())
            .where(ContestEntry.contest_id == contest.id)
            .group_by(ContestEntry.entered_on)
            .order_by(ContestEntry.entered_on)
        )
    ]


def new_prospects(session: Session, contest: Contest) -> int:
    entrants = select(ContestEntry.customer_id).where(ContestEntry.contest_id == contest.id)
    first = (
        select(ContestEntry.customer_id, func.min(ContestEntry.id).label("first_id"))
        .where(ContestEntry.customer_id.in_(entrants))
        .group_by(ContestEntry.customer_id)
        .subquery()
    )
    first_entry = ContestEntry.__table__.alias("first_entry")
    return session.scalar(
        select(func.count())
        .select_from(first)
        .join(first_entry, first_entry.c.id == first.c.first_id)
        .join(Customer, Customer.id == first.c.customer_id)
        .where(first_entry.c.contest_id == contest.id, Customer.source == PROSPECT_SOURCE)
    )


def entrants_who_took_a_card(session: Session, contest: Contest) -> int:
    first = (
        select(ContestEntry.customer_id, func.min(ContestEntry.created_at).label("first_at"))
        .where(ContestEntry.contest_id == contest.id)
        .group_by(ContestEntry.customer_id)
        .subquery()
    )
    return session.scalar(
        select(func.count())
        .select_from(first)
        .where(exists().where(Card.customer_id == first.c.customer_id, Card.issued_at > first.c.first_at))
    )


def entrants_by_postcode(session: Session, contest: Contest, limit: int | None = None) -> list[tuple[str, int]]:
    people = func.count(func.distinct(ContestEntry.customer_id))
    statement = (
        select(ContestEntry.postcode, people)
        .where(ContestEntry.contest_id == contest.id)
        .group_by(ContestEntry.postcode)
        .order_by(people.desc(), ContestEntry.postcode)
    )
    if limit:
        statement = statement.limit(limit)
    return [(postcode, count) for postcode, count in session.execute(statement)]


@dataclass
class Figures:
    entries: int = 0
    people: int = 0
    accepted: int = 0
    pending: int = 0
    rejected: int = 0
    flagged: int = 0
    new_prospects: int = 0
    took_a_card: int = 0
    per_day: list[tuple[date, int]] = field(default_factory=list)
    by_postcode: list[tuple[str, int]] = field(default_factory=list)


def contest_figures(session: Session, contest: Contest) -> Figures:
    """Every figure of the contest's page at once."""
    figures = Figures()
    for status, count in session.execute(
        select(ContestEntry.status, func.count())
        .where(ContestEntry.contest_id == contest.id)
        .group_by(ContestEntry.status)
    ):
        setattr(figures, status, count)
        figures.entries += count
    figures.people = session.scalar(
        select(func.count(func.distinct(ContestEntry.customer_id))).where(ContestEntry.contest_id == contest.id)
    )
    figures.flagged = session.scalar(
        select(func.count()).where(ContestEntry.contest_id == contest.id, ContestEntry.flags != "")
    )
    figures.new_prospects = new_prospects(session, contest)
    figures.took_a_card = entrants_who_took_a_card(session, contest)
    figures.per_day = entries_per_day(session, contest)
    figures.by_postcode = entrants_by_postcode(session, contest)
    return figures


# Export.


def export_rows(session: Session, contest: Contest):
    """The contest's entries in id order, streamed from the database (photos are not exported)."""
    statement = (
        select(
            ContestEntry.id,
            ContestEntry.created_at,
            ContestEntry.status,
            Customer.first_name,
            Customer.last_name,
            Customer.email,
            Customer.phone,
            ContestEntry.postcode,
            ContestEntry.town,
            ContestEntry.answer_text,
            ContestEntry.answer_correct,
            ContestEntry.flags,
            ContestEntry.public_name_consent,
            ContestEntry.rejection_reason,
            ContestEntry.moderated_at,
            ContestWinner.rank,
            ContestPrize.name,
            ContestWinner.reserve,
        )
        .join(Customer, Customer.id == ContestEntry.customer_id)
        .outerjoin(ContestWinner, ContestWinner.entry_id == ContestEntry.id)
        .outerjoin(ContestPrize, ContestPrize.id == ContestWinner.prize_id)
        .where(ContestEntry.contest_id == contest.id)
        .order_by(ContestEntry.id)
        .execution_options(yield_per=5000)
    )
    for row in session.execute(statement):
        entry_id, created_at, status, first, last, email, phone, postcode, town, answer = row[:10]
        correct, flags, public, reason, moderated_at, rank, prize, reserve = row[10:]
        yield (
            entry_id,
            created_at.isoformat(timespec="seconds") if created_at else "",
            status,
            first or "",
            last or "",
            email or "",
            phone or "",
            postcode or "",
            town or "",
            answer or "",
            "" if correct is None else ("oui" if correct else "non"),
            flags or "",
            "oui" if public else "non",
            reason or "",
            moderated_at.isoformat(timespec="seconds") if moderated_at else "",
            rank or "",
            "suppléant" if reserve else (prize or ""),
        )


def export_entries_csv(
    session: Session,
    contest: Contest,
    stream,
    *,
    header: Sequence[str] = EXPORT_HEADER,
    by_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Write the entries to a text stream as CSV the way exports.to_csv does (UTF-8 BOM, semicolons, CRLF),
    every cell through `safe_cell` (formula injection); returns the row count, audited when `now` is given."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in export_rows(session, contest):
        writer.writerow([safe_cell(value) for value in row])
        count += 1
    if now is not None:
        audit.record(
            session,
            account_id=by_id,
            action="export",
            now=now,
            object_type="contest",
            object_id=contest.id,
            list="contest_entries",
            rows=count,
            format="csv",
        )
    return count


def export_entries(
    session: Session,
    contest: Contest,
    *,
    by_id: int | None,
    now: datetime,
    header: Sequence[str] = EXPORT_HEADER,
) -> tuple[bytes, int]:
    """The CSV file as bytes (for a download) and its row count; recorded in the audit log."""
    buffer = io.StringIO()
    count = export_entries_csv(session, contest, buffer, header=header, by_id=by_id, now=now)
    return buffer.getvalue().encode("utf-8"), count
