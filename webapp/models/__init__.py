"""All models, imported here so that Alembic sees every table."""

from webapp.models.accounts import ROLES, STAFF_ROLES, Account
from webapp.models.api import ApiKey
from webapp.models.audit import AuditEntry
from webapp.models.branding import Union
from webapp.models.campaigns import (
    CALLS_TO_ACTION,
    CAMPAIGN_CHANNELS,
    CAMPAIGN_STATUSES,
    RECIPIENT_STATUSES,
    Campaign,
    CampaignRecipient,
)
from webapp.models.cards import Card
from webapp.models.contests import (
    ELIGIBILITIES,
    ENTRY_LIMITS,
    ENTRY_STATUSES,
    ENTRY_TYPES,
    Contest,
    ContestDrawEntry,
    ContestEntry,
    ContestPrize,
    ContestRules,
    ContestWinner,
)
from webapp.models.imports import CustomerReference, ImportBatch, ReviewItem
from webapp.models.people import CHANNELS, Consent, Customer
from webapp.models.points import PointsEntry
from webapp.models.rfm import RfmCrossShop, RfmRefresh, RfmScore, RfmSnapshot
from webapp.models.shops import Shop
from webapp.models.targets import SavedTarget, SavedTargetMember
from webapp.models.visits import Visit
from webapp.models.zones import ZonePostcode

__all__ = [
    "ROLES",
    "STAFF_ROLES",
    "CHANNELS",
    "CALLS_TO_ACTION",
    "CAMPAIGN_CHANNELS",
    "CAMPAIGN_STATUSES",
    "RECIPIENT_STATUSES",
    "Campaign",
    "CampaignRecipient",
    "ELIGIBILITIES",
    "ENTRY_LIMITS",
    "ENTRY_STATUSES",
    "ENTRY_TYPES",
    "Account",
    "ApiKey",
    "AuditEntry",
    "Card",
    "Consent",
    "Contest",
    "ContestDrawEntry",
    "ContestEntry",
    "ContestPrize",
    "ContestRules",
    "ContestWinner",
    "Customer",
    "CustomerReference",
    "ImportBatch",
    "PointsEntry",
    "ReviewItem",
    "RfmCrossShop",
    "RfmRefresh",
    "RfmScore",
    "RfmSnapshot",
    "SavedTarget",
    "SavedTargetMember",
    "Shop",
    "Union",
    "Visit",
    "ZonePostcode",
]
