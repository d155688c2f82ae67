"""All models, imported here so that Alembic sees every table."""

from webapp.models.accounts import ROLES, STAFF_ROLES, Account
from webapp.models.api import ApiKey
from webapp.models.branding import Union
from webapp.models.cards import Card
from webapp.models.people import CHANNELS, Consent, Customer
from webapp.models.points import PointsEntry
from webapp.models.shops import Shop
from webapp.models.visits import Visit

__all__ = [
    "ROLES",
    "STAFF_ROLES",
    "CHANNELS",
    "Account",
    "ApiKey",
    "Union",
    "Card",
    "Consent",
    "Customer",
    "PointsEntry",
    "Shop",
    "Visit",
]
