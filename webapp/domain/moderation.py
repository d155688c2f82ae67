"""Moderation of contest entries: the queue (with duplicate flags shown), approve or reject with a reason.

The queue is read by keyset pagination on the entry id through the index
(contest_id, status, id), so a page costs the same at the first or the 100,000th entry.
Moderation is open until the eligible list is frozen for the draw (`committed_at`); each
decision records who and when on the entry and in the audit log.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from webapp.domain import audit
from webapp.domain.errors import ModerationRefused
from webapp.models import ENTRY_STATUSES, Account, Contest, ContestEntry, Customer

MODERATOR_ROLES = ("organiser", "admin")
MAX_PAGE = 200
MAX_BULK = 1000
REASON_MAX = 200
_CHUNK = 500


def queue_columns():
    return (
        ContestEntry.id,
        ContestEntry.contest_id,
        ContestEntry.customer_id,
        ContestEntry.created_at,
        ContestEntry.entered_on,
        ContestEntry.status,
        ContestEntry.flags,
        ContestEntry.answer_text,
        ContestEntry.answer_correct,
        ContestEntry.photo_png.is_not(None).label("has_photo"),
        ContestEntry.town,
        ContestEntry.postcode,
        ContestEntry.public_name_consent,
        ContestEntry.rejection_reason,
        ContestEntry.moderated_at,
        ContestEntry.moderated_by_id,
        Customer.first_name,
        Customer.last_name,
        Customer.email,
        Customer.phone,
        Customer.source,
    )


def moderation_queue(
    session: Session,
    contest_id: int,
    *,
    status: str | None = "pending",
    flagged_only: bool = False,
    after_id: int | None = None,
    limit: int = 50,
) -> list:
    """One page of the contest's entries with the person's name, email, postcode and the flags, by id.

    `status` None lists every status; the next page starts after the last id of this one.
    """
    limit = max(1, min(MAX_PAGE, int(limit or 50)))
    conditions = [ContestEntry.contest_id == contest_id]
    if status is not None:
        if status not in ENTRY_STATUSES:
            return []
        conditions.append(ContestEntry.status == status)
    if flagged_only:
        conditions.append(ContestEntry.flags != "")
    if after_id:
        conditions.append(ContestEntry.id > int(after_id))
    return session.execute(
        select(*queue_columns())
        .join(Customer, Customer.id == ContestEntry.customer_id)
        .where(*conditions)
        .order_by(ContestEntry.id)
        .limit(limit)
    ).all()


def queue_counts(session: Session, contest_id: int) -> dict[str, int]:
    """Entries per status, plus 'flagged' (any status) and 'total'."""
    counts = dict.fromkeys(ENTRY_STATUSES, 0)
    flagged = func.sum(case((ContestEntry.flags != "", 1), else_=0))
    for status, count, flags in session.execute(
        select(ContestEntry.status, func.count(), flagged)
        .where(ContestEntry.contest_id == contest_id)
        .group_by(ContestEntry.status)
    ):
        counts[status] = count
        counts["flagged"] = counts.get("flagged", 0) + int(flags or 0)
    counts.setdefault("flagged", 0)
    counts["total"] = sum(counts[status] for status in ENTRY_STATUSES)
    return counts


def entry_of_contest(session: Session, contest_id: int, entry_id: int) -> ContestEntry | None:
    return session.scalar(
        select(ContestEntry).where(ContestEntry.id == entry_id, ContestEntry.contest_id == contest_id)
    )


def entry_photo(session: Session, contest_id: int, entry_id: int) -> bytes | None:
    """The re-encoded PNG of a photo entry (for the moderator's view)."""
    return session.scalar(
        select(ContestEntry.photo_png).where(ContestEntry.id == entry_id, ContestEntry.contest_id == contest_id)
    )


def _check_moderator(session: Session, by_id: int | None) -> None:
    role = session.scalar(select(Account.role).where(Account.id == by_id, Account.active.is_(True)))
    if role not in MODERATOR_ROLES:
        raise ModerationRefused("forbidden")


def moderate(
    session: Session,
    contest: Contest,
    entry_ids: Sequence[int],
    *,
    approve: bool,
    reason: str = "",
    by_id: int,
    now: datetime,
) -> int:
    """Approve or reject entries of this contest (a reason is required to reject); returns how many changed.

    Only organisers and admins moderate; refused once the list is frozen for the draw.
    Ids of another contest are ignored.
    """
    _check_moderator(session, by_id)
    if contest.committed_at is not None or contest.drawn_at is not None:
        raise ModerationRefused("committed")
    reason = " ".join((reason or "").split())
    if not approve and (not reason or len(reason) > REASON_MAX):
        raise ModerationRefused("reason_required")
    ids = sorted({int(entry_id) for entry_id in entry_ids})
    if not ids:
        raise ModerationRefused("nothing_selected")
    ids = ids[:MAX_BULK]
    # Lock the contest row so that a commitment cannot slip in between (PostgreSQL).
    locked = session.scalars(
        select(Contest).where(Contest.id == contest.id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if locked.committed_at is not None:
        raise ModerationRefused("committed")
    status = "accepted" if approve else "rejected"
    changed: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        result = session.execute(
            update(ContestEntry)
            .where(ContestEntry.contest_id == contest.id, ContestEntry.id.in_(chunk))
            .values(
                status=status,
                rejection_reason="" if approve else reason,
                moderated_by_id=by_id,
                moderated_at=now,
            )
            .returning(ContestEntry.id)
            .execution_options(synchronize_session=False)
        )
        changed += list(result.scalars())
    session.expire_all()
    if changed:
        audit.record(
            session,
            account_id=by_id,
            action="contest_moderate",
            now=now,
            object_type="contest",
            object_id=contest.id,
            status=status,
            reason="" if approve else reason,
            entries=sorted(changed),
        )
    return len(changed)
