"""contests: contests, prizes, entries, moderation, draws

Revision ID: 8d2e3f4a5b6c
Revises: 7c1d2e3f4a5b
Create Date: 2026-12-03 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d2e3f4a5b6c'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('image_png', sa.LargeBinary(), nullable=True),
    sa.Column('image_version', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('eligibility', sa.String(length=12), nullable=False),
    sa.Column('entry_type', sa.String(length=10), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.String(length=200), nullable=False),
    sa.Column('entry_limit', sa.String(length=8), nullable=False),
    sa.Column('minimum_age', sa.Integer(), nullable=False),
    sa.Column('rules_extra', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('seed_commitment', sa.String(length=64), nullable=True),
    sa.Column('entries_hash', sa.String(length=64), nullable=True),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_contest_created_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest')),
    sa.UniqueConstraint('slug', name=op.f('uq_contest_slug'))
    )
    op.create_table('contest_prize',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_prize_contest_id_contest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_prize'))
    )
    with op.batch_alter_table('contest_prize', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_prize_contest_id'), ['contest_id'], unique=False)

    op.create_table('contest_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_rules_contest_id_contest')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_rules')),
    sa.UniqueConstraint('contest_id', 'version', name=op.f('uq_contest_rules_contest_id'))
    )
    op.create_table('contest_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('limit_key', sa.String(length=10), nullable=False),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('rules_version', sa.Integer(), nullable=False),
    sa.Column('age_confirmed', sa.Boolean(), nullable=False),
    sa.Column('public_name_consent', sa.Boolean(), nullable=False),
    sa.Column('answer_text', sa.Text(), nullable=False),
    sa.Column('answer_correct', sa.Boolean(), nullable=True),
    sa.Column('photo_png', sa.LargeBinary(), nullable=True),
    sa.Column('town', sa.String(length=80), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=False),
    sa.Column('phone_key', sa.String(length=20), nullable=False),
    sa.Column('address_key', sa.String(length=200), nullable=False),
    sa.Column('flags', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('moderated_at', sa.DateTime(), nullable=True),
    sa.Column('rejection_reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_contest_entry_account_id_account')),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_entry_contest_id_contest')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_contest_entry_customer_id_customer')),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['account.id'], name=op.f('fk_contest_entry_moderated_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_entry')),
    sa.UniqueConstraint('contest_id', 'customer_id', 'limit_key', name=op.f('uq_contest_entry_contest_id'))
    )
    with op.batch_alter_table('contest_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_entry_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_contest_entry_queue', ['contest_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_contest_entry_email_key', ['contest_id', 'email_key'], unique=False)
        batch_op.create_index('ix_contest_entry_phone_key', ['contest_id', 'phone_key'], unique=False)
        batch_op.create_index('ix_contest_entry_address_key', ['contest_id', 'address_key'], unique=False)

    op.create_table('contest_draw_entry',
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('contest_id', 'position', name=op.f('pk_contest_draw_entry'))
    )
    op.create_table('contest_winner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('prize_id', sa.Integer(), nullable=True),
    sa.Column('reserve', sa.Boolean(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_winner_contest_id_contest')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_contest_winner_customer_id_customer')),
    sa.ForeignKeyConstraint(['entry_id'], ['contest_entry.id'], name=op.f('fk_contest_winner_entry_id_contest_entry')),
    sa.ForeignKeyConstraint(['prize_id'], ['contest_prize.id'], name=op.f('fk_contest_winner_prize_id_contest_prize')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_winner')),
    sa.UniqueConstraint('contest_id', 'rank', name=op.f('uq_contest_winner_contest_id'))
    )


def downgrade():
    op.drop_table('contest_winner')
    op.drop_table('contest_draw_entry')
    with op.batch_alter_table('contest_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_contest_entry_address_key')
        batch_op.drop_index('ix_contest_entry_phone_key')
        batch_op.drop_index('ix_contest_entry_email_key')
        batch_op.drop_index('ix_contest_entry_queue')
        batch_op.drop_index(batch_op.f('ix_contest_entry_customer_id'))

    op.drop_table('contest_entry')
    op.drop_table('contest_rules')
    with op.batch_alter_table('contest_prize', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_prize_contest_id'))

    op.drop_table('contest_prize')
    op.drop_table('contest')
