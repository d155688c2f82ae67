"""Member shops."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain.errors import DomainError
from webapp.models import Shop


class SlugTaken(DomainError):
    code = "slug_taken"


def save_shop(session: Session, shop: Shop | None, **fields) -> Shop:
    """Create (shop=None) or update a shop; slugs are unique."""
    slug = fields["slug"].strip().lower()
    clash = session.scalar(select(Shop.id).where(Shop.slug == slug))
    if clash is not None and (shop is None or clash != shop.id):
        raise SlugTaken()
    if shop is None:
        shop = Shop()
        session.add(shop)
    shop.slug = slug
    for name in ("name", "category", "address", "postcode"):
        setattr(shop, name, fields.get(name, "").strip())
    session.flush()
    return shop


def shop_by_slug(session: Session, slug: str) -> Shop | None:
    return session.scalar(select(Shop).where(Shop.slug == slug))
