"""two-step sign-in: authenticator secrets and recovery codes

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 09:03:12

One row in staff_mfa per account that has set up an authenticator app (its TOTP secret, the time
step of the last accepted code, wrong codes in a row); staff_recovery_code holds the SHA-256 of
each one-time recovery code and when it was used. An account without MFA has no rows; an admin's
reset deletes them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_mfa',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_step', sa.BigInteger(), nullable=True),
        sa.Column('failed_codes', sa.Integer(), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_mfa_user_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_mfa')),
        sa.UniqueConstraint('user_id', name=op.f('uq_staff_mfa_user_id')),
    )
    op.create_table(
        'staff_recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'],
                                name=op.f('fk_staff_recovery_code_user_id_staff_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_recovery_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_staff_recovery_code_code_hash')),
    )
    with op.batch_alter_table('staff_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_recovery_code_user_id'))
    op.drop_table('staff_recovery_code')
    op.drop_table('staff_mfa')
