"""people: the language of their agenda and notices, and how changes reach them

Revision ID: 5a7c1e2b9d40
Revises: 1d2e0a56e0ff
Create Date: 2026-12-02 06:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a7c1e2b9d40'
down_revision = '1d2e0a56e0ff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('calendar', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('calendar')
        batch_op.drop_column('language')
