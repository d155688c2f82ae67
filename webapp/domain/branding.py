"""The union's identity and programme settings, and logo re-encoding."""

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain import images
from webapp.domain.errors import DomainError
from webapp.models import Union

LOGO_BOX = (512, 512)
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class PoorContrast(DomainError):
    code = "poor_contrast"


def get_union(session: Session) -> Union:
    """The union's settings; an unsaved default before the first configuration."""
    union = session.scalar(select(Union).order_by(Union.id).limit(1))
    if union is None:
        union = Union(
            name="Quartier",
            tagline="",
            address="",
            primary_color="#1f3a93",
            accent_color="#e4572e",
            logo_version=0,
            points_per_euro=1,
            cooldown_minutes=10,
            timezone="Europe/Paris",
            rules_text="",
        )
    return union


_UNIONS = Union.__table__
_CREDIT_RULES = select(_UNIONS.c.points_per_euro, _UNIONS.c.cooldown_minutes).order_by(_UNIONS.c.id).limit(1)


def credit_rules(session: Session) -> tuple[int, int]:
    """(points per euro, cooldown minutes), read without loading the logo: the counter's hot path."""
    row = session.connection().execute(_CREDIT_RULES).first()
    return (row.points_per_euro, row.cooldown_minutes) if row else (1, 10)


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(color_a: str, color_b: str) -> float:
    high, low = sorted((_luminance(color_a), _luminance(color_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def check_header_color(color: str) -> str:
    """A colour usable behind white text (WCAG AA, 4.5:1)."""
    if not _COLOR_RE.match(color or ""):
        raise PoorContrast("not a colour")
    if contrast_ratio(color, "#ffffff") < 4.5:
        raise PoorContrast("white text would be unreadable", ratio=contrast_ratio(color, "#ffffff"))
    return color.lower()


def reencode_logo(data: bytes) -> bytes:
    """The logo as uploaded, re-encoded by the rules of every upload (webapp.domain.images)."""
    return images.reencode(data, LOGO_BOX)


def update_union(session: Session, union: Union, **fields) -> Union:
    for name in ("name", "tagline", "address", "rules_text", "points_per_euro", "cooldown_minutes"):
        if name in fields:
            setattr(union, name, fields[name])
    if "primary_color" in fields:
        union.primary_color = check_header_color(fields["primary_color"])
    if "accent_color" in fields:
        union.accent_color = check_header_color(fields["accent_color"])
    if fields.get("logo") is not None:
        union.logo_png = reencode_logo(fields["logo"])
        union.logo_version = (union.logo_version or 0) + 1
    if union.id is None:
        session.add(union)
    session.flush()
    return union
