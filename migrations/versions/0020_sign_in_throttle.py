"""sign-in throttle by username and address, shared rate limit counters, admin-only account lock

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:01:18

Wrong passwords are counted per username and client address (`sign_in_throttle`) for
progressive waits, instead of five locking the account for anyone. An account is locked only
at the absolute cap and stays locked until an admin unlocks it: `staff_user.locked_until`
becomes `locked_at`. The 15-minute locks of the old rule are not carried over (they would have
ended within 15 minutes anyway). Flask-Limiter's per-address counters live in
`rate_limit_counter`, shared by every server process.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_counter'))
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index('ix_rate_limit_counter_expires_at', ['expires_at'], unique=False)

    op.create_table('sign_in_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttle')),
    sa.UniqueConstraint('username', 'client_address', name=op.f('uq_sign_in_throttle_username_client_address'))
    )
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_throttle_last_failure_at', ['last_failure_at'], unique=False)

    # A plain rename on both engines: a batch copy of staff_user on SQLite would have to drop a
    # table every other table refers to.
    op.execute("ALTER TABLE staff_user RENAME COLUMN locked_until TO locked_at")
    op.execute("UPDATE staff_user SET locked_at = NULL, failed_logins = 0")


def downgrade():
    op.execute("UPDATE staff_user SET locked_at = NULL, failed_logins = 0")
    op.execute("ALTER TABLE staff_user RENAME COLUMN locked_at TO locked_until")

    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_throttle_last_failure_at')
    op.drop_table('sign_in_throttle')

    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_limit_counter_expires_at')
    op.drop_table('rate_limit_counter')
