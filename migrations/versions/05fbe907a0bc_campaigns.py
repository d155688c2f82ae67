"""campaigns: campaigns and recipients; postal addresses of people

Revision ID: 05fbe907a0bc
Revises: 8d2e3f4a5b6c
Create Date: 2026-12-04 04:48:52

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '05fbe907a0bc'
down_revision = '8d2e3f4a5b6c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('criteria', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('cta_kind', sa.String(length=10), nullable=False),
    sa.Column('cta_label', sa.String(length=80), nullable=False),
    sa.Column('cta_url', sa.String(length=500), nullable=False),
    sa.Column('offer_code', sa.String(length=40), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=True),
    sa.Column('holdout_percent', sa.SmallInteger(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('report_days', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_campaign_contest_id_contest')),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_campaign_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    op.create_table('campaign_recipient',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('holdout', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_recipient_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_campaign_recipient_customer_id_customer')),
    sa.PrimaryKeyConstraint('campaign_id', 'customer_id', name=op.f('pk_campaign_recipient'))
    )
    with op.batch_alter_table('campaign_recipient', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_recipient_queue', ['campaign_id', 'status', 'customer_id'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('town', sa.String(length=80), nullable=True))



def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('town')
        batch_op.drop_column('street')

    with op.batch_alter_table('campaign_recipient', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_recipient_queue')

    op.drop_table('campaign_recipient')
    op.drop_table('campaign')
