"""feedback: the instructor's comment on a worksheet, sent with the grade

Revision ID: 0004_feedback
Revises: 0003_grades
Create Date: 2026-11-25 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_feedback'
down_revision = '0003_grades'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('feedback')
