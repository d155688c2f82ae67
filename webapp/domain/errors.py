"""Named domain errors. Each has a stable `code` used by the API and mapped to messages."""

from datetime import datetime


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str = "", **params):
        super().__init__(detail or self.code)
        self.params = params


class InvalidCardCode(DomainError):
    """The code is malformed, truncated, or its signature does not match."""

    code = "invalid_card_code"


class UnknownCard(DomainError):
    code = "unknown_card"


class CardRevoked(DomainError):
    code = "card_revoked"


class InvalidAmount(DomainError):
    code = "invalid_amount"


class CooldownActive(DomainError):
    code = "cooldown"

    def __init__(self, credited_at: datetime, retry_at: datetime):
        super().__init__(credited_at=credited_at, retry_at=retry_at)
        self.credited_at = credited_at
        self.retry_at = retry_at


class IdempotencyKeyReused(DomainError):
    """The key was already used for a different request."""

    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(DomainError):
    """Another request with the same key is being processed right now."""

    code = "idempotency_key_in_flight"


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"


class VisitNotFound(DomainError):
    code = "visit_not_found"


class AlreadyVoided(DomainError):
    code = "already_voided"


class EmailTaken(DomainError):
    code = "email_taken"


class WeakPassword(DomainError):
    code = "weak_password"

    def __init__(self, reason: str):
        super().__init__(reason, reason=reason)
        self.reason = reason


class InvalidImage(DomainError):
    code = "invalid_image"

    def __init__(self, reason: str):
        super().__init__(reason, reason=reason)
        self.reason = reason


class InvalidToken(DomainError):
    code = "invalid_token"


class _Refusal(DomainError):
    """A refusal whose `reason` picks the message (see webapp/messages.py REASON_MESSAGES)."""

    def __init__(self, reason: str, **params):
        super().__init__(reason, reason=reason, **params)
        self.reason = reason


class ContestNotFound(DomainError):
    code = "contest_not_found"


class ContestInvalid(_Refusal):
    """reason: title, dates, eligibility, entry_type, entry_limit, prizes, prize_name, prize_quantity,
    question, answer, minimum_age, too_long."""

    code = "contest_invalid"


class ContestLocked(_Refusal):
    """reason: started (only the description, the free rules text and the image may change), committed."""

    code = "contest_locked"


class ContestNotOpen(DomainError):
    """The contest is a draft, not started yet, or ended (`state` says which)."""

    code = "contest_not_open"

    def __init__(self, state: str):
        super().__init__(state, state=state)
        self.state = state


class EntryRefused(_Refusal):
    """reason: cardholders_only, age, rules_not_accepted, rules_outdated, answer, text, photo, name, too_long."""

    code = "entry_refused"


class AlreadyEntered(DomainError):
    """The per-person limit: once per contest, or once per day (`limit`)."""

    code = "already_entered"

    def __init__(self, limit: str):
        super().__init__(limit, limit=limit)
        self.limit = limit


class ModerationRefused(_Refusal):
    """reason: forbidden, reason_required, committed, nothing_selected."""

    code = "moderation_refused"


class DrawRefused(_Refusal):
    """reason: forbidden, not_ended, pending_entries, already_committed, not_committed, already_drawn,
    no_eligible_entries, no_prizes."""

    code = "draw_refused"
