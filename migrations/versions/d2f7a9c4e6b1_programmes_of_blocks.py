"""programmes of blocks: a revision chain is a lineage; a programme holds lineages as blocks

- plan.programme_id / log_entry.programme_id (the first plan of a revision chain) are renamed
  lineage_id, with their index and constraints (uq_log_lineage_day, fk_log_lineage,
  fk_plan_lineage), so that "programme" can name the course of care.

Revision ID: d2f7a9c4e6b1
Revises: c5e8f1a2b3d4
Create Date: 2026-12-01 12:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f7a9c4e6b1'
down_revision = 'c5e8f1a2b3d4'
branch_labels = None
depends_on = None


def _rename_chain(old: str, new: str) -> None:
    """Rename the revision-chain columns, index and constraints from `old` to `new`."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index(f'ix_plan_{old}_id', table_name='plan')
    # A plain RENAME COLUMN on SQLite too: rebuilding "plan" there would trip the foreign keys
    # of every row that points at it (its foreign key to itself is unnamed on SQLite).
    op.execute(f'ALTER TABLE plan RENAME COLUMN {old}_id TO {new}_id')
    if not sqlite:
        op.execute(f'ALTER TABLE plan RENAME CONSTRAINT fk_plan_{old} TO fk_plan_{new}')
    op.create_index(f'ix_plan_{new}_id', 'plan', [f'{new}_id'], unique=False)
    if sqlite:
        with op.batch_alter_table('log_entry', schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_log_{old}', type_='foreignkey')
            batch_op.drop_constraint(f'uq_log_{old}_day', type_='unique')
            batch_op.alter_column(f'{old}_id', new_column_name=f'{new}_id')
        # a second pass: batch mode would name the old column in the new constraints
        with op.batch_alter_table('log_entry', schema=None) as batch_op:
            batch_op.create_unique_constraint(f'uq_log_{new}_day', [f'{new}_id', 'day'])
            batch_op.create_foreign_key(f'fk_log_{new}', 'plan', [f'{new}_id'], ['id'])
    else:
        op.execute(f'ALTER TABLE log_entry RENAME COLUMN {old}_id TO {new}_id')
        op.execute(f'ALTER TABLE log_entry RENAME CONSTRAINT uq_log_{old}_day TO uq_log_{new}_day')
        op.execute(f'ALTER TABLE log_entry RENAME CONSTRAINT fk_log_{old} TO fk_log_{new}')


def upgrade():
    _rename_chain('programme', 'lineage')


def downgrade():
    _rename_chain('lineage', 'programme')
