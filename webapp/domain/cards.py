"""Card numbers (12 digits, Luhn) and the signed code carried by the QR.

The QR holds `{BASE_URL}/c/{number}.{mac}`. The MAC is HMAC-SHA256 under
CARD_SIGNING_KEY of a purpose string, the card number and the card version,
truncated to 80 bits and written in unpadded upper-case base32 (16 characters,
which QR encodes in its compact alphanumeric mode).
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from webapp.domain.errors import CardRevoked, InvalidCardCode, UnknownCard
from webapp.models import Card

NUMBER_LENGTH = 12
MAC_BYTES = 10
MAC_LENGTH = 16
_PURPOSE = b"quartier-card-v1"
_CODE_RE = re.compile(r"^(\d{12})\.([A-Z2-7]{16})$")


def luhn_check_digit(digits: str) -> str:
    """The Luhn digit to append to `digits`."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_number(number: str) -> bool:
    return (
        len(number) == NUMBER_LENGTH
        and number.isascii()
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def random_number() -> str:
    """A random 12-digit number with a Luhn check digit; never starts with 0."""
    body = str(secrets.randbelow(9 * 10**10) + 10**10)
    return body + luhn_check_digit(body)


def normalise_number(text: str) -> str:
    """Digits typed by a person, with spaces, dots or dashes between groups."""
    return re.sub(r"[\s.\-]", "", text or "")


def format_number(number: str) -> str:
    """`1234 5678 9012`, the way the number is printed under the QR."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def card_mac(signing_key: str, number: str, version: int) -> str:
    message = _PURPOSE + b"|" + number.encode() + b"|" + str(version).encode()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode().rstrip("=")


def card_code(signing_key: str, number: str, version: int) -> str:
    return f"{number}.{card_mac(signing_key, number, version)}"


def card_url(base_url: str, signing_key: str, card: Card) -> str:
    return f"{base_url}/c/{card_code(signing_key, card.number, card.version)}"


@dataclass(frozen=True)
class ParsedCode:
    number: str
    mac: str


def parse_code(code: str) -> ParsedCode:
    """Split `number.mac`, also when given as the full URL from the QR."""
    code = (code or "").strip()
    if "/c/" in code:
        code = code.rsplit("/c/", 1)[1]
    match = _CODE_RE.match(code.upper())
    if not match or not is_valid_number(match.group(1)):
        raise InvalidCardCode("malformed card code")
    return ParsedCode(match.group(1), match.group(2))


def _check_status(card: Card | None) -> Card:
    if card is None:
        raise UnknownCard()
    if card.status != "active":
        raise CardRevoked()
    return card


# Built once: the counter and the API look a card up on every credit.
_CARD_BY_NUMBER = select(Card).where(Card.number == bindparam("number"))


def verify_code(session: Session, signing_key: str, code: str) -> Card:
    """The active card a signed code designates, or a named error. Constant-time MAC check."""
    parsed = parse_code(code)
    card = session.scalar(_CARD_BY_NUMBER, {"number": parsed.number})
    version = card.version if card is not None else 1
    expected = card_mac(signing_key, parsed.number, version)
    if not hmac.compare_digest(expected, parsed.mac):
        raise InvalidCardCode("bad signature")
    return _check_status(card)


def find_by_number(session: Session, number: str) -> Card:
    """The active card with a typed number (staff only: no signature to check)."""
    number = normalise_number(number)
    if not is_valid_number(number):
        raise InvalidCardCode("malformed card number")
    return _check_status(session.scalar(_CARD_BY_NUMBER, {"number": number}))


def resolve(session: Session, signing_key: str, code_or_number: str) -> Card:
    """A staff input: a signed code (from a scan) or a typed number."""
    text = (code_or_number or "").strip()
    if "." in text or "/" in text:
        return verify_code(session, signing_key, text)
    return find_by_number(session, text)


def issue_card(session: Session, customer_id: int, now: datetime) -> Card:
    """A new active card with a fresh random number (retries on the rare collision)."""
    for _ in range(20):
        number = random_number()
        if session.scalar(select(Card.id).where(Card.number == number)) is None:
            card = Card(number=number, version=1, customer_id=customer_id, issued_at=now)
            session.add(card)
            session.flush()
            return card
    raise RuntimeError("could not find a free card number")


def revoke_cards(session: Session, customer_id: int, now: datetime) -> None:
    session.execute(
        update(Card)
        .where(Card.customer_id == customer_id, Card.status == "active")
        .values(status="revoked", revoked_at=now)
    )


def reissue_card(session: Session, customer_id: int, now: datetime) -> Card:
    """Revoke the customer's current card (its code stops working) and issue a new one."""
    revoke_cards(session, customer_id, now)
    return issue_card(session, customer_id, now)


def active_card(session: Session, customer_id: int) -> Card | None:
    return session.scalar(select(Card).where(Card.customer_id == customer_id, Card.status == "active"))
