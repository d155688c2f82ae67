"""cross-shop pair counts per snapshot, normalised search names

Revision ID: 7c1d2e3f4a5b
Revises: 613ed736e6fb
Create Date: 2026-12-03 20:30:00.000000

- rfm_cross_shop: the pair counts stored with each union-wide snapshot, and
  rfm_snapshot.cross_shop telling which snapshots have them;
- rfm_refresh: refresh requests handed to the worker (one pending per scope);
- customer.first_name_folded / last_name_folded, indexed, byte-ordered on
  PostgreSQL, backfilled here from the names with the application's own
  folding function (webapp/domain/names.py).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d2e3f4a5b'
down_revision = '613ed736e6fb'
branch_labels = None
depends_on = None

FOLDED = sa.String(length=120).with_variant(sa.String(length=120, collation='C'), 'postgresql')
BACKFILL_CHUNK = 5000


def upgrade():
    op.create_table('rfm_cross_shop',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.SmallInteger(), nullable=False),
    sa.Column('from_shop_id', sa.Integer(), nullable=False),
    sa.Column('to_shop_id', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('snapshot_id', 'months', 'from_shop_id', 'to_shop_id', name=op.f('pk_rfm_cross_shop')),
    sqlite_with_rowid=False
    )
    op.create_table('rfm_refresh',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('pending_scope', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=True),
    sa.Column('snapshots', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['account.id'], name=op.f('fk_rfm_refresh_requested_by_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfm_refresh')),
    sa.UniqueConstraint('pending_scope', name=op.f('uq_rfm_refresh_pending_scope'))
    )
    with op.batch_alter_table('rfm_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cross_shop', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_name_folded', FOLDED, nullable=True))
        batch_op.add_column(sa.Column('last_name_folded', FOLDED, nullable=True))

    _backfill_folded_names()

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_first_name_folded'), ['first_name_folded'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_last_name_folded'), ['last_name_folded'], unique=False)


def _backfill_folded_names():
    """Fold the names of the people already in the file, by chunks of ids (indexes built after)."""
    from webapp.domain.names import folded_names

    connection = op.get_bind()
    customer = sa.table(
        'customer',
        sa.column('id', sa.Integer),
        sa.column('first_name', sa.String),
        sa.column('last_name', sa.String),
        sa.column('first_name_folded', sa.String),
        sa.column('last_name_folded', sa.String),
    )
    update = (
        sa.update(customer)
        .where(customer.c.id == sa.bindparam('b_id'))
        .values(first_name_folded=sa.bindparam('b_first'), last_name_folded=sa.bindparam('b_last'))
    )
    named = sa.or_(customer.c.first_name.is_not(None), customer.c.last_name.is_not(None))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(customer.c.id, customer.c.first_name, customer.c.last_name)
            .where(customer.c.id > last_id, named)
            .order_by(customer.c.id)
            .limit(BACKFILL_CHUNK)
        ).all()
        if not rows:
            break
        values = []
        for customer_id, first_name, last_name in rows:
            first, last = folded_names(first_name, last_name)
            values.append({'b_id': customer_id, 'b_first': first, 'b_last': last})
        connection.execute(update, values)
        last_id = rows[-1][0]


def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_last_name_folded'))
        batch_op.drop_index(batch_op.f('ix_customer_first_name_folded'))
        batch_op.drop_column('last_name_folded')
        batch_op.drop_column('first_name_folded')

    with op.batch_alter_table('rfm_snapshot', schema=None) as batch_op:
        batch_op.drop_column('cross_shop')

    op.drop_table('rfm_refresh')
    op.drop_table('rfm_cross_shop')
