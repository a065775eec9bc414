"""one open revision per plan

uq_plan_one_open_revision: at most one draft-or-issued plan revises any plan, so two clicks on
"Revise" make one draft and two revisions of one plan are never both current.

Two open revisions of one plan can only come from the race this index closes. Before building
it, the upgrade closes the extras and says so: of each plan's open revisions the issued one (the
newest if several) stays; other issued ones become superseded and open drafts cancelled, each
with a reason, so nothing is deleted.

Revision ID: b3c1d2e4f5a6
Revises: a7c3e9d1f2b4
Create Date: 2026-12-01 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3c1d2e4f5a6'
down_revision = 'a7c3e9d1f2b4'
branch_labels = None
depends_on = None

OPEN_REVISION = "status IN ('draft', 'issued')"


def _close_duplicate_revisions() -> None:
    connection = op.get_bind()
    plan = sa.table(
        "plan",
        sa.column("id", sa.Integer),
        sa.column("revises_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("status_reason", sa.String),
        sa.column("revision", sa.Integer),
    )
    rows = connection.execute(
        sa.select(plan.c.id, plan.c.revises_id, plan.c.status)
        .where(plan.c.revises_id.is_not(None), plan.c.status.in_(("draft", "issued")))
        .order_by(plan.c.revises_id, plan.c.id)
    ).all()
    by_parent: dict[int, list[tuple[int, str]]] = {}
    for plan_id, parent, status in rows:
        by_parent.setdefault(parent, []).append((plan_id, status))
    for parent, children in by_parent.items():
        if len(children) < 2:
            continue
        issued = [plan_id for plan_id, status in children if status == "issued"]
        keep = issued[-1] if issued else children[0][0]
        for plan_id, status in children:
            if plan_id == keep:
                continue
            if status == "issued":
                values = {"status": "superseded", "status_reason": f"Duplicate of plan {keep}"}
            else:
                values = {"status": "cancelled", "status_reason": f"Duplicate draft of plan {keep}"}
            connection.execute(sa.update(plan).where(plan.c.id == plan_id).values(**values))
            print(f"plan {plan_id} ({status}) duplicated plan {keep} as a revision of plan "
                  f"{parent}: now {values['status']}")


def upgrade():
    _close_duplicate_revisions()
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.create_index(
            'uq_plan_one_open_revision',
            ['revises_id'],
            unique=True,
            postgresql_where=sa.text(OPEN_REVISION),
            sqlite_where=sa.text(OPEN_REVISION),
        )


def downgrade():
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_index('uq_plan_one_open_revision')
