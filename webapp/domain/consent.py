"""Marketing consent per channel, recorded with when, how and the wording shown."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import CHANNELS, Consent


def current_consents(session: Session, customer_id: int) -> dict[str, bool]:
    """The latest decision per channel; a channel never asked is False."""
    latest = (
        select(Consent.channel, func.max(Consent.id).label("last_id"))
        .where(Consent.customer_id == customer_id)
        .group_by(Consent.channel)
        .subquery()
    )
    rows = session.execute(select(Consent.channel, Consent.granted).join(latest, Consent.id == latest.c.last_id)).all()
    state = dict.fromkeys(CHANNELS, False)
    state.update({channel: granted for channel, granted in rows})
    return state


def record_consents(
    session: Session,
    customer_id: int,
    wanted: dict[str, bool],
    *,
    method: str,
    wordings: dict[str, str],
    now: datetime,
    record_unchanged: bool = False,
) -> list[Consent]:
    """Record each channel whose decision changes (or all of them, at sign-up)."""
    current = current_consents(session, customer_id)
    recorded = []
    for channel in CHANNELS:
        if channel not in wanted:
            continue
        granted = bool(wanted[channel])
        if granted == current[channel] and not record_unchanged:
            continue
        consent = Consent(
            customer_id=customer_id,
            channel=channel,
            granted=granted,
            method=method,
            wording=wordings[channel],
            recorded_at=now,
        )
        session.add(consent)
        recorded.append(consent)
    session.flush()
    return recorded


def consent_history(session: Session, customer_id: int) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.customer_id == customer_id).order_by(Consent.id.desc())))
