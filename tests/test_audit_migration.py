"""The migration to a chain per clinic: an intact single chain is re-linked per clinic, a broken
one is refused (re-linking would hide the break), and the downgrade goes back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from prescriptions import create_app
from prescriptions.audit import GENESIS, SYSTEM, _digest, audit_key, record_event, verify_all
from prescriptions.extensions import db
from prescriptions.models import AuditEvent
from tests.factories import MIGRATIONS, app_config

#: the revision just before the chain per clinic (rows are written with today's models there, so
#: it must be the one right before: earlier schemas lack columns today's models carry)
BEFORE = "b8d4f0e2a3c5"


def _old_clinic(name: str) -> SimpleNamespace:
    """A clinic row as the schema at BEFORE holds it: columns added since (the handout's
    emergency numbers) are not there yet, so today's model cannot write it."""
    result = db.session.execute(
        sa.text(
            "INSERT INTO clinic (name, address, phone, email, paper, footer_text, created_at,"
            " version) VALUES (:name, '', '', '', 'a4', '', CURRENT_TIMESTAMP, 1)"
        ),
        {"name": name},
    )
    return SimpleNamespace(__tablename__="clinic", id=result.lastrowid)


def _single_chain() -> None:
    """Sign every row as the code before this change did: one chain over all clinics."""
    prev = GENESIS
    for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        event.prev_hash = prev
        event.hash = _digest(audit_key(), prev, event)
        prev = event.hash
    db.session.commit()


@pytest.fixture
def old_database(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'old.sqlite'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE)
        first, second = _old_clinic("One"), _old_clinic("Two")
        for clinic in (first, second, first, None, second):
            record_event(SYSTEM, "clinic.update", clinic, "x", clinic_id=clinic and clinic.id)
        db.session.commit()
        _single_chain()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_an_intact_single_chain_is_relinked_per_clinic(old_database):
    with old_database.app_context():
        assert verify_all(audit_key())[0] is not None  # the old chain, read by the new rule
        db.session.rollback()  # end the read: the migration writes through its own connection
        upgrade(directory=MIGRATIONS)
        broken, heads = verify_all(audit_key())
        assert broken is None and set(heads) == {None, 1, 2}
        db.session.rollback()
        downgrade(directory=MIGRATIONS, revision=BEFORE)
        assert verify_all(audit_key())[0] is not None  # back to one chain


def test_a_broken_single_chain_is_refused(old_database, capfd):
    with old_database.app_context():
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == 3).values(detail="edited"))
        db.session.commit()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits 1
            upgrade(directory=MIGRATIONS)
        assert "The audit chain is broken at event 3" in capfd.readouterr().err
        db.session.rollback()
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == BEFORE
