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
