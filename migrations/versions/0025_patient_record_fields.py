"""a thin patient record: sex, emergency contact, referring and primary care physicians

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 15:20:00

Administrative sex (female, male, other, unknown; the pregnancy checks will read it) stays empty
for the patients registered before it was asked: the edit form asks for it. The emergency
contact, and the referring and the primary care physician (name, practice, phone, fax), are
optional.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

COLUMNS = (
    ('sex', 7),
    ('emergency_contact_name', 80),
    ('emergency_contact_relationship', 40),
    ('emergency_contact_phone', 30),
    ('referring_name', 80),
    ('referring_practice', 120),
    ('referring_phone', 30),
    ('referring_fax', 30),
    ('primary_care_name', 80),
    ('primary_care_practice', 120),
    ('primary_care_phone', 30),
    ('primary_care_fax', 30),
)


def upgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
