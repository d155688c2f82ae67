"""Signed, expiring tokens for mail links, one salt per purpose.

A reset token also carries a fingerprint of the current password hash, so it
stops working once used; a confirmation token carries the address it confirms.
"""

import hashlib

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from webapp.domain.errors import InvalidToken

CONFIRM_MAX_AGE = 7 * 24 * 3600
RESET_MAX_AGE = 2 * 3600


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"quartier.{purpose}")


def _hash_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def make_confirm_token(secret: str, account_id: int, email: str) -> str:
    return _serializer(secret, "confirm-email").dumps([account_id, email])


def read_confirm_token(secret: str, token: str) -> tuple[int, str]:
    try:
        account_id, email = _serializer(secret, "confirm-email").loads(token, max_age=CONFIRM_MAX_AGE)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken() from exc
    return int(account_id), str(email)


def make_reset_token(secret: str, account_id: int, password_hash: str) -> str:
    return _serializer(secret, "reset-password").dumps([account_id, _hash_fingerprint(password_hash)])


def read_reset_token(secret: str, token: str) -> tuple[int, str]:
    """The account id and the password-hash fingerprint the token was made for."""
    try:
        account_id, fingerprint = _serializer(secret, "reset-password").loads(token, max_age=RESET_MAX_AGE)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken() from exc
    return int(account_id), str(fingerprint)


def reset_token_matches(fingerprint: str, password_hash: str) -> bool:
    return fingerprint == _hash_fingerprint(password_hash)


def _lasting_serializer(secret: str, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"quartier.{purpose}")


def make_unsubscribe_token(secret: str, campaign_id: int, customer_id: int) -> str:
    """The unsubscribe link of one message: it never expires (old mails must still work)."""
    return _lasting_serializer(secret, "unsubscribe").dumps([campaign_id, customer_id])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, int]:
    """(campaign id, customer id) of an unsubscribe link."""
    try:
        campaign_id, customer_id = _lasting_serializer(secret, "unsubscribe").loads(token)
        return int(campaign_id), int(customer_id)
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken() from exc
