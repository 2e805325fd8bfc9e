"""drop two indexes that the unique keys already cover

An import writes every meeting and attendance row into each of its table's indexes; these two
only repeat the leading column of a unique key, (delegation_id, key) and (meeting_id,
person_id), which serves the same lookups.

Revision ID: b3e1c0a9d2f4
Revises: 7d137b121b06
Create Date: 2026-12-03 09:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3e1c0a9d2f4'
down_revision = '7d137b121b06'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_meeting_id'))
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_delegation_id'))


def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_delegation_id'), ['delegation_id'], unique=False)
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_meeting_id'), ['meeting_id'], unique=False)
