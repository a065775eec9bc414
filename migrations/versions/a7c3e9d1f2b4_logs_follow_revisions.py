"""logs follow revisions: logged days belong to the programme (a plan and all its revisions)

- plan.programme_id: the first plan of a revision chain (None on that plan itself).
- log_entry.programme_id: the programme a logged day belongs to; every revision reads and
  writes the same days. uq_log_programme_day replaces uq_log_plan_day; plan_id stays as the
  revision the day was logged against (sessions_prescribed keeps that revision's dose).

Existing logs move to their programme. Where two revisions of one plan had both logged the
same day, the later entry (by updated_at) becomes the programme's day and the other stays on
record on its own revision only (programme_id NULL); each such day is reported on stdout.

Revision ID: a7c3e9d1f2b4
Revises: b1c4e2a9d7f0
Create Date: 2026-12-01 09:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f2b4'
down_revision = 'b1c4e2a9d7f0'
branch_labels = None
depends_on = None


def _roots(connection: sa.Connection) -> dict[int, int]:
    """Every plan's first plan of its revision chain."""
    parent = dict(connection.execute(sa.text("SELECT id, revises_id FROM plan")).all())
    roots: dict[int, int] = {}
    for plan_id in parent:
        seen, node = {plan_id}, plan_id
        while parent.get(node) is not None and parent[node] not in seen:
            node = parent[node]
            seen.add(node)
        roots[plan_id] = node
    return roots


def upgrade():
    # A plain ADD COLUMN ... REFERENCES on SQLite: rebuilding "plan" there would trip the
    # foreign keys of every row that points at it.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE plan ADD COLUMN programme_id INTEGER REFERENCES plan (id)')
    else:
        op.add_column('plan', sa.Column('programme_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_plan_programme', 'plan', 'plan', ['programme_id'], ['id'])
    op.create_index(op.f('ix_plan_programme_id'), 'plan', ['programme_id'], unique=False)
    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))

    connection = op.get_bind()
    roots = _roots(connection)
    set_plan = sa.text("UPDATE plan SET programme_id = :root WHERE id = :id")
    revised = [{"id": p, "root": r} for p, r in roots.items() if p != r]
    if revised:
        connection.execute(set_plan, revised)

    logs = connection.execute(
        sa.text("SELECT id, plan_id, day, updated_at FROM log_entry ORDER BY updated_at, id")
    ).all()
    kept: dict[tuple[int, object], int] = {}
    for log_id, plan_id, day, _updated in logs:  # later entries win
        kept[(roots.get(plan_id, plan_id), day)] = log_id
    moves = [{"id": log_id, "root": key[0]} for key, log_id in kept.items()]
    if moves:
        connection.execute(sa.text("UPDATE log_entry SET programme_id = :root WHERE id = :id"), moves)
    winners = set(kept.values())
    for log_id, plan_id, day, _updated in logs:
        if log_id not in winners:
            print(
                f"log_entry {log_id} (plan {plan_id}, {day}): the same day was logged again on "
                f"another revision (log_entry {kept[(roots.get(plan_id, plan_id), day)]}); "
                "kept on record on plan only"
            )

    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.drop_constraint('uq_log_plan_day', type_='unique')
        batch_op.create_unique_constraint('uq_log_programme_day', ['programme_id', 'day'])
        batch_op.create_index('ix_log_plan', ['plan_id'], unique=False)
        batch_op.create_foreign_key('fk_log_programme', 'plan', ['programme_id'], ['id'])


def downgrade():
    with op.batch_alter_table('log_entry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_log_programme', type_='foreignkey')
        batch_op.drop_index('ix_log_plan')
        batch_op.drop_constraint('uq_log_programme_day', type_='unique')
        batch_op.create_unique_constraint('uq_log_plan_day', ['plan_id', 'day'])
        batch_op.drop_column('programme_id')
    op.drop_index(op.f('ix_plan_programme_id'), table_name='plan')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('plan', schema=None) as batch_op:
            batch_op.drop_column('programme_id')
    else:
        op.drop_constraint('fk_plan_programme', 'plan', type_='foreignkey')
        op.drop_column('plan', 'programme_id')
