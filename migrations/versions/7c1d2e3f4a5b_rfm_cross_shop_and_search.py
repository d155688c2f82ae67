"""cross-shop pair counts per snapshot, normalised search names

Revision ID: 7c1d2e3f4a5b
Revises: 613ed736e6fb
Create Date: 2026-12-03 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d2e3f4a5b'
down_revision = '613ed736e6fb'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
