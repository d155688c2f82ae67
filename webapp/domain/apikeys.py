"""API keys for shops' tills: shown once, stored as SHA-256 of a 256-bit secret."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from webapp.models import ApiKey, Shop

KEY_PREFIX = "qk_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, shop_id: int, label: str, now: datetime) -> tuple[ApiKey, str]:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(shop_id=shop_id, prefix=secret[:10], key_hash=_digest(secret), label=label, created_at=now)
    session.add(key)
    session.flush()
    return key, secret


# Built once: every API request is authenticated with it.
_KEY_OWNER = (
    select(ApiKey.shop_id, Shop.active)
    .join(Shop, Shop.id == ApiKey.shop_id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


def key_owner(session: Session, secret: str) -> tuple[int, bool] | None:
    """(shop id, shop is active) for a presented key, or None if unknown or revoked."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    row = session.connection().execute(_KEY_OWNER, {"key_hash": _digest(secret)}).first()
    return (row.shop_id, row.active) if row else None
