"""API keys for shops' tills: shown once, stored as SHA-256 of a 256-bit secret."""

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
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


def shop_for_key(session: Session, secret: str) -> int | None:
    """The shop id a presented key belongs to, or None (unknown, revoked, inactive shop)."""
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    return session.scalar(
        select(ApiKey.shop_id)
        .join(Shop, Shop.id == ApiKey.shop_id)
        .where(ApiKey.key_hash == _digest(secret), ApiKey.revoked_at.is_(None), Shop.active)
    )
