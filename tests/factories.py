"""Test data factories: plain functions over a session, committed for real."""

import itertools
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher

from webapp.domain import apikeys, cards, contests, passwords, visits
from webapp.models import Account, Card, Contest, Customer, Shop, Union, Visit

# Cheap Argon2 parameters for the suite: the rules are tested, not the cost.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PASSWORD = "correct horse battery staple"
_HASH = passwords.hash_password(PASSWORD)
_counter = itertools.count(1)


def contest_fields(now: datetime, **overrides) -> dict:
    """The editor's fields of a simple draw open from the day before `now` to a week after it."""
    values = dict(
        title="Grand jeu de l'été",
        description="Gagnez des paniers du marché.",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=7),
        eligibility="everyone",
        entry_type="draw",
        question="",
        answer="",
        entry_limit="once",
        minimum_age=18,
        rules_extra="",
        prizes=[("Panier garni", 2), ("Bon d'achat de 50 €", 1)],
        image=None,
        by_id=None,
    )
    values.update(overrides)
    return values


class Factories:
    def __init__(self, session):
        self.session = session

    def _commit(self, obj):
        self.session.add(obj)
        self.session.commit()
        return obj

    def union(self, **fields) -> Union:
        values = dict(
            name="Union Test",
            primary_color="#1f3a93",
            accent_color="#8a2be2",
            points_per_euro=1,
            cooldown_minutes=10,
            timezone="Europe/Paris",
            tagline="",
            address="1 place du Test, 69004 Lyon",
            rules_text="",
            logo_version=0,
        )
        values.update(fields)
        return self._commit(Union(**values))

    def shop(self, **fields) -> Shop:
        n = next(_counter)
        values = dict(slug=f"shop-{n}", name=f"Boutique {n}", category="Test", postcode="69004")
        values.update(fields)
        return self._commit(Shop(**values))

    def staff(self, role="merchant", shop=None, **fields) -> Account:
        n = next(_counter)
        if role == "merchant" and shop is None:
            shop = self.shop()
        values = dict(
            email=f"staff{n}@example.org",
            password_hash=_HASH,
            role=role,
            shop_id=shop.id if shop else None,
            display_name=f"Staff {n}",
            email_confirmed_at=datetime.now(UTC),
        )
        values.update(fields)
        return self._commit(Account(**values))

    def customer(self, **fields) -> Customer:
        n = next(_counter)
        values = dict(first_name=f"Client{n}", email=f"client{n}@example.org", postcode="69004", source="signup")
        values.update(fields)
        return self._commit(Customer(**values))

    def card(self, customer=None) -> Card:
        customer = customer or self.customer()
        card = cards.issue_card(self.session, customer.id, datetime.now(UTC))
        self.session.commit()
        return card

    def shopper(self, first_name="Alice", **fields) -> Account:
        """A shopper account with its person and an active card."""
        customer = self.customer(first_name=first_name, **fields)
        self.card(customer)
        account = Account(
            email=customer.email, password_hash=_HASH, role="shopper", customer_id=customer.id, display_name=first_name
        )
        return self._commit(account)

    def visit(self, card, shop, amount_cents: int, at: datetime) -> Visit:
        """A credited visit through the real crediting rule (points ledger included)."""
        result = visits.credit_visit(
            self.session,
            card=card,
            shop_id=shop.id,
            amount_cents=amount_cents,
            idempotency_key=f"factory-{next(_counter):012d}",
            now=at,
            rules=visits.CreditRules(),
        )
        self.session.commit()
        return self.session.get(Visit, result.visit_id)

    def api_key(self, shop) -> str:
        _key, secret = apikeys.create_api_key(self.session, shop.id, "test", datetime.now(UTC))
        self.session.commit()
        return secret

    def active_card(self, account) -> Card:
        return cards.active_card(self.session, account.customer_id)

    def contest(self, now: datetime | None = None, publish: bool = True, **fields) -> Contest:
        """A contest with contest_fields' defaults, saved and published the day before it starts (or before `now`)."""
        now = now or datetime.now(UTC)
        values = contest_fields(now, **fields)
        created = min(now, values["starts_at"]) - timedelta(days=1)
        contest = contests.save_contest(self.session, None, now=created, **values)
        if publish:
            contests.publish_contest(self.session, contest, created)
        self.session.commit()
        return contest


__all__ = ["Factories", "PASSWORD", "contest_fields"]
