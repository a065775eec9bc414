"""Migration d2f7a9c4e6b1: every existing lineage becomes a one-block programme."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from prescriptions import create_app
from prescriptions.extensions import db
from tests.factories import MIGRATIONS

NOW = datetime(2026, 11, 30, 9, 0)


def _insert_old_rows(connection: sa.Connection) -> None:
    """Rows as the schema before programmes held them (reflected tables, not today's models)."""
    meta = sa.MetaData()
    meta.reflect(connection)
    t = meta.tables
    connection.execute(
        t["clinic"].insert(),
        [{"id": 1, "name": "C", "address": "", "phone": "", "email": "", "paper": "a4",
          "footer_text": "", "created_at": NOW, "version": 1, "country": "",
          "emergency_number": "", "out_of_hours_number": ""}],
    )  # fmt: skip
    connection.execute(
        t["user_account"].insert(),
        [{"id": 1, "clinic_id": 1, "email": "a@b.c", "name": "A", "role": "clinician",
          "password_hash": "x", "active": True, "session_version": 1, "created_at": NOW}],
    )  # fmt: skip
    connection.execute(
        t["patient"].insert(),
        [{"id": 1, "clinic_id": 1, "given_name": "P", "family_name": "Q", "preferred_name": "",
          "chart_number": "C1", "cue_set": "neutral", "diagnoses": [], "precautions": [],
          "phone": "", "email": "", "address": "", "notes": "", "created_at": NOW,
          "updated_at": NOW, "version": 1}],
    )  # fmt: skip
    plans = [
        # id, revises, chain (then called programme_id), status, revision, closed
        (1, None, None, "superseded", 1, datetime(2026, 11, 10, 8, 0)),
        (2, 1, 1, "issued", 2, None),
        (3, None, None, "completed", 1, datetime(2026, 10, 30, 12, 0)),
        (4, None, None, "cancelled", 1, datetime(2026, 11, 3, 12, 0)),
        (5, None, None, "draft", 1, None),
    ]
    connection.execute(
        t["plan"].insert(),
        [
            {"id": pid, "clinic_id": 1, "patient_id": 1, "author_id": 1,
             "template_code": "strengthening", "title": "T", "approach": "strengthening",
             "purpose": f"goal {pid}", "start_date": date(2026, 10, pid), "end_date":
             date(2026, 10, pid) + timedelta(days=27), "status": status, "status_reason": "", "revision": rev,
             "revises_id": revises, "programme_id": lineage, "notes_to_patient": "",
             "large_print": False, "closed_at": closed, "created_at": NOW, "updated_at": NOW,
             "version": 1}
            for pid, revises, lineage, status, rev, closed in plans
        ],
    )  # fmt: skip
    connection.execute(
        t["plan_item"].insert(),
        [{"id": 1, "plan_id": 2, "week": 1, "seq": 1, "exercise_code": "slow_hold",
          "position": "lying", "hold_s": 5, "rest_s": 5, "reps": 8, "sets": 1,
          "sessions_per_day": 3, "effort_pct": None, "note": ""}],
    )  # fmt: skip


def test_every_lineage_becomes_a_one_block_programme(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": False, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="c5e8f1a2b3d4")
        with db.engine.begin() as connection:
            _insert_old_rows(connection)
        upgrade(directory=MIGRATIONS, revision="d2f7a9c4e6b1")
        with db.engine.connect() as c:
            programmes = {
                row.id: (row.patient_id, row.goal, row.block_count, row.status, str(row.ended_on))
                for row in c.execute(sa.text("SELECT * FROM programme"))
            }
            plans = {
                row.id: (row.programme_id, row.block_number, row.lineage_id)
                for row in c.execute(sa.text("SELECT * FROM plan"))
            }
            reasons = c.execute(sa.text("SELECT reason FROM plan_item")).scalars().all()
        db.engine.dispose()
    assert programmes == {
        1: (1, "goal 1", 1, "running", "None"),
        3: (1, "goal 3", 1, "finished", "2026-10-30"),
        4: (1, "goal 4", 1, "stopped", "2026-11-03"),
        5: (1, "goal 5", 1, "running", "None"),
    }
    assert plans == {1: (1, 1, None), 2: (1, 1, 1), 3: (3, 1, None), 4: (4, 1, None),
                     5: (5, 1, None)}  # fmt: skip
    assert reasons == [""]


def test_the_upgrade_keeps_one_running_programme_per_patient(tmp_path, capsys):
    """Migration e4b8c2d6f1a3: of two running programmes the later one runs, the other stops."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AUTO_MIGRATE": False, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="c5e8f1a2b3d4")
        with db.engine.begin() as connection:
            _insert_old_rows(connection)
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as c:
            programmes = {
                row.id: (row.status, str(row.ended_on), row.status_reason)
                for row in c.execute(sa.text("SELECT * FROM programme"))
            }
        with db.engine.begin() as c, pytest.raises(sa.exc.IntegrityError):
            c.execute(sa.text("UPDATE programme SET status = 'running' WHERE id = 1"))
        db.engine.dispose()
    # programme 5 (plan 5, started 2026-10-05) is later than programme 1 (2026-10-01)
    assert programmes[5] == ("running", "None", "")
    assert programmes[1][:2] == ("stopped", "2026-10-05") and "later programme" in programmes[1][2]
    assert programmes[3][0] == "finished" and programmes[4][0] == "stopped"
    assert "programme 1 stopped: a later programme of patient 1 runs" in capsys.readouterr().out
