"""Accounts and people: shopper sign-up, staff accounts, sign-in, erasure."""

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.domain import cards, consent, passwords
from webapp.domain.errors import DomainError, EmailTaken
from webapp.models import Account, Customer


class InvalidEmail(DomainError):
    code = "invalid_email"


class InvalidPhone(DomainError):
    code = "invalid_phone"


class InvalidPostcode(DomainError):
    code = "invalid_postcode"


def normalise_email(email: str) -> str:
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized.lower()


def normalise_phone(phone: str, region: str = "FR") -> str | None:
    """E.164, or None for an empty field."""
    if not (phone or "").strip():
        return None
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_postcode(postcode: str) -> str:
    """French postcodes: five digits."""
    value = (postcode or "").replace(" ", "").strip()
    if len(value) != 5 or not value.isdigit():
        raise InvalidPostcode("five digits")
    return value


def clean_name(name: str) -> str:
    return " ".join((name or "").split())[:80]


@dataclass(frozen=True)
class SignUp:
    email: str
    password: str
    first_name: str
    postcode: str
    phone: str = ""
    consents: dict | None = None
    consent_wordings: dict | None = None


def account_by_email(session: Session, email: str) -> Account | None:
    return session.scalar(select(Account).where(Account.email == email.lower()))


def register_shopper(session: Session, data: SignUp, now: datetime) -> Account:
    """A shopper account, the person in the shared file (reused if already known) and a card."""
    email = normalise_email(data.email)
    first_name = clean_name(data.first_name)
    passwords.check_strength(data.password, [email, first_name])
    phone = normalise_phone(data.phone)
    postcode = normalise_postcode(data.postcode)
    if account_by_email(session, email) is not None:
        raise EmailTaken()

    customer = session.scalar(
        select(Customer)
        .outerjoin(Account, Account.customer_id == Customer.id)
        .where(
            func.lower(Customer.email) == email,
            Customer.erased_at.is_(None),
            Customer.merged_into_id.is_(None),
            Account.id.is_(None),
        )
        .order_by(Customer.id)
        .limit(1)
    )
    if customer is None:
        customer = Customer(source="signup", created_at=now)
        session.add(customer)
    customer.email = email
    customer.first_name = first_name
    customer.postcode = postcode
    customer.phone = phone or customer.phone
    customer.rules_accepted_at = now
    session.flush()

    consent.record_consents(
        session,
        customer.id,
        data.consents or {},
        method="form",
        wordings=data.consent_wordings or {},
        now=now,
        record_unchanged=True,
    )
    if cards.active_card(session, customer.id) is None:
        cards.issue_card(session, customer.id, now)
    account = Account(
        email=email,
        password_hash=passwords.hash_password(data.password),
        role="shopper",
        customer_id=customer.id,
        display_name=first_name,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def create_staff(
    session: Session,
    *,
    email: str,
    password: str,
    role: str,
    now: datetime,
    shop_id: int | None = None,
    display_name: str = "",
    check_password: bool = True,
) -> Account:
    if role not in ("merchant", "organiser", "admin"):
        raise ValueError(f"unknown staff role {role!r}")
    if role == "merchant" and shop_id is None:
        raise ValueError("a merchant belongs to one shop")
    email = normalise_email(email)
    if check_password:
        passwords.check_strength(password, [email, display_name])
    if account_by_email(session, email) is not None:
        raise EmailTaken()
    account = Account(
        email=email,
        password_hash=passwords.hash_password(password),
        role=role,
        shop_id=shop_id if role == "merchant" else None,
        display_name=clean_name(display_name),
        email_confirmed_at=now,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def authenticate(session: Session, email: str, password: str, now: datetime) -> Account | None:
    """The active account with these credentials, or None. Same work either way."""
    account = account_by_email(session, (email or "").strip())
    ok = passwords.verify_password(account.password_hash if account else None, password or "")
    if not ok or account is None or not account.active:
        return None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.last_login_at = now
    session.flush()
    return account


def end_all_sessions(session: Session, account: Account) -> None:
    """Every session cookie issued so far stops working (see Account.get_id)."""
    session.execute(update(Account).where(Account.id == account.id).values(session_version=Account.session_version + 1))
    session.refresh(account)


def set_password(session: Session, account: Account, new_password: str) -> None:
    passwords.check_strength(new_password, [account.email, account.display_name])
    account.password_hash = passwords.hash_password(new_password)
    session.flush()
    end_all_sessions(session, account)


def confirm_email(session: Session, account: Account, email: str, now: datetime) -> bool:
    """Confirm the address the token was made for, if it is still the account's."""
    if account.email != email:
        return False
    if account.email_confirmed_at is None:
        account.email_confirmed_at = now
        session.flush()
    return True


def update_details(
    session: Session,
    customer: Customer,
    *,
    first_name: str,
    last_name: str,
    phone: str,
    postcode: str,
    street: str = "",
    town: str = "",
) -> None:
    customer.first_name = clean_name(first_name)
    customer.last_name = clean_name(last_name) or None
    customer.phone = normalise_phone(phone)
    customer.postcode = normalise_postcode(postcode)
    customer.street = " ".join(street.split())[:200] or None
    customer.town = " ".join(town.split())[:80] or None
    session.flush()


def erase_shopper(session: Session, account: Account, now: datetime) -> None:
    """Delete the account and blank the person; visits stay, anonymised, for statistics."""
    customer = account.customer
    if customer is not None:
        cards.revoke_cards(session, customer.id, now)
        for field in ("first_name", "last_name", "email", "phone", "reference", "street", "town"):
            setattr(customer, field, None)
        customer.erased_at = now
    session.delete(account)
    session.flush()


def set_active(session: Session, account: Account, active: bool) -> None:
    """Disable or re-enable an account; disabling ends its sessions everywhere."""
    account.active = active
    session.flush()
    if not active:
        end_all_sessions(session, account)
