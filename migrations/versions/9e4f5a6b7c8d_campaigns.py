"""campaigns: campaigns, recipients, holdout, offer codes

Revision ID: 9e4f5a6b7c8d
Revises: 8d2e3f4a5b6c
Create Date: 2026-12-03 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4f5a6b7c8d'
down_revision = '8d2e3f4a5b6c'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
