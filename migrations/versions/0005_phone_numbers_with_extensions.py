"""phone numbers with extensions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 04:37:18

Phone numbers are stored in E.164 with an RFC 3966 extension (+14105550100;ext=22), which needs
more than 20 characters.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TABLES = (('office', False), ('patient', True))


def upgrade():
    for table, nullable in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('phone', existing_type=sa.VARCHAR(length=20),
                                  type_=sa.String(length=30), existing_nullable=nullable)


def downgrade():
    # Extensions do not fit the old width: keep the number, drop the extension.
    without_extension = ("split_part(phone, ';', 1)" if op.get_bind().dialect.name == 'postgresql'
                         else "substr(phone, 1, instr(phone, ';') - 1)")
    for table, nullable in reversed(TABLES):
        op.execute(f"UPDATE {table} SET phone = {without_extension} WHERE phone LIKE '%;%'")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('phone', existing_type=sa.String(length=30),
                                  type_=sa.VARCHAR(length=20), existing_nullable=nullable)
