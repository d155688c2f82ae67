"""The audit log: append-only records of who did or looked at what."""

from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import AuditEntry


def record(
    session: Session,
    *,
    account_id: int | None,
    action: str,
    now: datetime,
    object_type: str = "",
    object_id: int | None = None,
    **detail,
) -> AuditEntry:
    """Append one entry, e.g. record(s, account_id=1, action="export", now=now, rows=120, list="segment")."""
    entry = AuditEntry(
        account_id=account_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail or None,
        at=now,
    )
    session.add(entry)
    session.flush()
    return entry
