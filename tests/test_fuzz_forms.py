"""Hypothesis fuzzing of every form, through the Flask test client.

Each form is described by a `Target`: where it posts, a fresh valid submission (`prepare`), which
fields can vary and stay valid, which values make it invalid, and what a valid submission writes.
Every example draws one of three modes:

- "valid": the baseline with some fields replaced by values that must still be accepted (Unicode
  text within the bounds, numbers in range, other listed choices). The response is the form's
  success status and the database changed exactly as `writes` says, including exactly one new
  row of the target table (or, for edit forms, that one row replaced by its new version).
- "invalid": the baseline with one field made invalid (missing, too long, a control character, a
  number out of range, an unknown choice). The form refuses it and nothing at all is written.
- "arbitrary": the baseline mutated at random: any field set to arbitrary text (Unicode, control
  characters, very long strings), numbers out of range, a list where one value is expected, a field
  dropped, an unknown field added. Whatever happens, it is never a 500, and the database ends up
  either untouched or changed exactly as a valid submission changes it (all or nothing); a 400
  always means untouched.

Every response, in every mode: not a 500, no "Traceback" in the body, and no exception logged by
the application's error handler (the traceback is put in the failure message when there is one).

What "written" means: `snapshot` reads every row of every table in `db.metadata.sorted_tables`
before and after the request and compares them as multisets, so an update shows as one row removed
and its new version added, and a partial write of any kind shows. Two choices:

- Audit rows whose action starts with "auth." are left out. Every sign-in attempt is audited on
  purpose (SECURITY.md), so a refused login legitimately writes `auth.login_failed`; no other form
  writes an `auth.*` row. Every other audit row counts: a refused form must not be audited as done.
- Rows of `submission` (the one-time form tokens) do count. A refused form must not burn its token,
  or the corrected form, sent again with the same token, would be taken for a double click and
  silently dropped.

How examples share one app: the fixtures are function-scoped, so each test builds its app and its
records once, then calls an inner `@given` function (`fuzz`) that runs all of that form's examples
against the same app and database. Examples are not isolated from each other, so `prepare(n)`
makes each submission fresh (a new one-time token, a unique email or chart number, the record's
current version, a new draft when the last one was issued) and the checks compare the database
just before and just after each request. Hypothesis' example database is off (nothing written to
the tree), and password hashing uses cheap scrypt parameters here: the KDF's cost is not what these
tests examine, and the default parameters would make the file several times slower.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from prescriptions.accounts import operations as accounts_ops
from prescriptions.auth import views as auth_views
from prescriptions.auth.passwords import password_problem
from prescriptions.domain.adherence import prescribed_per_day
from prescriptions.domain.catalogue import BUILTIN_EXERCISES, FIELD_BOUNDS
from prescriptions.domain.progression import BUILTIN_TEMPLATES
from prescriptions.domain.vocab import CueSet, Diagnosis, Kind, Paper, Precaution, Relaxation, Role
from prescriptions.extensions import db
from prescriptions.mapping.plans import plan_items
from prescriptions.models import Clinic, LogEntry, Patient, Plan, PlanItem, User
from tests.conftest import PASSWORD, login
from tests.test_plans import editor_data, issue, new_plan
from tests.test_records import whole_week

EXAMPLES = 30
MODES = ("valid", "invalid", "arbitrary")

Data = dict[str, Any]
Snapshot = dict[str, Counter[tuple[str, ...]]]
Diff = dict[str, tuple[int, int]]  #: table -> (rows added, rows removed), changed tables only
Rows = Callable[[int, int], bool]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()  #: as a value: leave the field out of the submission


def fuzz_settings(examples: int = EXAMPLES) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


# --- the database before and after ----------------------------------------------------------


def snapshot(app: Flask) -> Snapshot:
    """Every row of every table (auth.* audit rows left out), as a multiset per table."""
    result: Snapshot = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            stmt = sa.select(table)
            if table.name == "audit_event":
                stmt = stmt.where(~table.c.action.startswith("auth."))
            rows = db.session.execute(stmt)
            result[table.name] = Counter(tuple(repr(v) for v in row) for row in rows)
    return result


def diff(before: Snapshot, after: Snapshot) -> Diff:
    changes: Diff = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, Counter()), after.get(name, Counter())
        added, removed = sum((new - old).values()), sum((old - new).values())
        if added or removed:
            changes[name] = (added, removed)
    return changes


def rows(added: int, removed: int = 0) -> Rows:
    return lambda a, r: (a, r) == (added, removed)


def any_rows(a: int, r: int) -> bool:
    return True


def same_or_replaced(a: int, r: int) -> bool:
    """An edit saved with nothing changed leaves its row as it was (and is still audited)."""
    return (a, r) in {(0, 0), (1, 1)}


def matches(changes: Diff, writes: dict[str, Rows]) -> bool:
    """Whether the changes are exactly a valid submission's writes (unnamed tables untouched)."""
    if set(changes) - set(writes):
        return False
    return all(expect(*changes.get(name, (0, 0))) for name, expect in writes.items())


# --- strategies ---------------------------------------------------------------------------------

_PRINTABLE = st.characters(exclude_categories=("Cs", "Cc"))
_MULTILINE = st.one_of(_PRINTABLE, st.sampled_from("\n\r\t"))
SINGLE_LINE_CONTROLS = [chr(i) for i in range(32) if chr(i) != "\t"] + ["\x7f"]
MULTILINE_CONTROLS = [chr(i) for i in range(32) if chr(i) not in "\t\r\n"] + ["\x7f"]


def line(max_len: int, *, required: bool = True) -> st.SearchStrategy[str]:
    """One line of Unicode text a form must accept (no control characters, within bounds)."""
    text = st.text(_PRINTABLE, min_size=1 if required else 0, max_size=min(max_len, 60))
    if max_len > 60:
        text = st.one_of(text, st.just("ŵ" * max_len))
    return text.filter(lambda s: bool(s.strip())) if required else text


def lines(max_len: int, *, required: bool = False) -> st.SearchStrategy[str]:
    """Multi-line Unicode text a form must accept."""
    text = st.text(_MULTILINE, min_size=1 if required else 0, max_size=min(max_len, 80))
    text = st.one_of(text, st.just(("Ω\r\n" * max_len)[:max_len]))
    return text.filter(lambda s: bool(s.strip())) if required else text


def too_long(max_len: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda ch, extra: ch * (max_len + extra), st.sampled_from("xé語🙂"), st.integers(1, 40)
    )


def with_control(multiline: bool = False) -> st.SearchStrategy[str]:
    controls = MULTILINE_CONTROLS if multiline else SINGLE_LINE_CONTROLS
    return st.builds(lambda c: f"a{c}b", st.sampled_from(controls))


def bad_text(max_len: int, *, required: bool = True, multiline: bool = False) -> Any:
    options = [too_long(max_len), with_control(multiline)]
    if required:
        options.append(st.just(""))
        options.append(st.just(MISSING))
    return st.one_of(*options)


def numbers(low: int, high: int, *, optional: bool = True) -> st.SearchStrategy[str]:
    values = st.integers(low, high).map(str)
    return st.one_of(values, st.just("")) if optional else values


def bad_number(low: int, high: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(max_value=low - 1).map(str),
        st.integers(min_value=high + 1).map(str),
        st.sampled_from(["lots", "1.5", "1e3", "²", "0x10", "--1", "9" * 40]),
    )


def dates(first: date, last: date) -> st.SearchStrategy[str]:
    return st.dates(first, last).map(date.isoformat)


BAD_DATES = st.sampled_from(["not a date", "2026-02-30", "2026-13-01", "31/12/2026", "²⁰²⁶-01-01"])
#: a one-time token that was tampered with: replaced by a fresh one, so the form still saves
#: search text is free: wildcards, escapes and NUL find nothing odd, and never crash
NASTY_SEARCHES = ["a\x00b", "\x00", "%", "_", "\\", "ŵ" * 200, "a\tb\r\n"]
SEARCH = st.one_of(st.sampled_from(NASTY_SEARCHES), st.text(max_size=60))


def search_every_nasty_text(client: FlaskClient, url: str) -> None:
    """Besides the random examples, each awkward search once, so none is left to chance."""
    for q in NASTY_SEARCHES:
        response = client.get(url, query_string={"q": q})
        assert response.status_code == 200, f"{url}?q={q!r}: {response.status_code}"


TAMPERED_ONCE = st.sampled_from(["0" * 65, "a\x00b", "ü", "a b", ""])


def choice(values: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([str(v) for v in values])


def not_one_of(values: Any) -> st.SearchStrategy[str]:
    known = {str(v) for v in values}
    return st.one_of(st.sampled_from(["nonsense", "A4", " a4"]), st.text(max_size=12)).filter(
        lambda s: s not in known
    )


def subsets(values: Any) -> st.SearchStrategy[list[str]]:
    return st.lists(choice(values), unique=True)


def strong_password() -> st.SearchStrategy[str]:
    """A new password the policy accepts (checked against names and emails in `accept`)."""
    return st.one_of(
        st.text(min_size=12, max_size=128).filter(lambda p: password_problem(p) is None),
        st.just("ø" * 120 + "abcdefgh"),
    )


def valid_email_local() -> st.SearchStrategy[str]:
    return st.text(
        st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-"),
        min_size=1,
        max_size=30,
    )


SPECIAL = [
    "", " ", "\x00", "\r\n", "0", "-1", "00", "²", "١٢", "1e3", "1.5", "NaN", "inf", "9" * 40,
    "2026-02-30", "0001-01-01", "9999-12-31", "<script>alert(1)</script>", "' OR 1=1 --",
    "%", "_", "\\", "clinic:1", "clinic:999999", "clinic:²", "add:1", "remove:0", "up:0",
    "down:0", "copy:1", "up:²", "add:²", "y", "on", "false", "a4", "letter", "save", "0" * 65,
]  # fmt: skip
SCALARS = st.one_of(
    st.text(),
    st.builds(lambda s, k: s * k, st.text(min_size=1, max_size=6), st.integers(50, 1500)),
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(str),
    st.sampled_from(SPECIAL),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


def mutate(data: st.DataObject, values: Data) -> Data:
    """Random damage: set, drop or add fields (with lists where one value is expected)."""
    keys = sorted(values) or ["x"]
    operations = st.tuples(
        st.sampled_from(["set", "set", "drop", "extra"]),
        st.sampled_from(keys),
        VALUES,
        st.one_of(
            st.text(min_size=1, max_size=20), st.sampled_from(["action", "once", "csrf_token"])
        ),
    )
    result = dict(values)
    for verb, key, value, extra in data.draw(
        st.lists(operations, min_size=1, max_size=4), "mutations"
    ):
        if verb == "set":
            result[key] = value
        elif verb == "drop":
            result.pop(key, None)
        else:
            result[extra] = value
    return result


# --- one form -------------------------------------------------------------------------------


@dataclass
class Target:
    """One form under fuzzing."""

    name: str
    #: n -> (url, a fresh valid submission); may read the database or the form page
    prepare: Callable[[int], tuple[str, Data]]
    client: Callable[[], FlaskClient]
    #: what a valid submission changes: table -> (added, removed) check; other tables untouched
    writes: dict[str, Rows]
    #: the table a valid submission adds one row to (or replaces one row of, with `replaces`)
    target: str | None = None
    replaces: bool = False
    #: a valid submission may also write nothing (e.g. the editor's structural actions)
    optional_write: bool = False
    valid: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    invalid: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    accepted: tuple[int, ...] = (302,)
    rejected: tuple[int, ...] = (400,)
    #: further statuses an arbitrary submission may get (e.g. a changed editor action)
    others: tuple[int, ...] = ()
    method: str = "POST"
    #: valid mode: fix up linked fields (e.g. confirm = password, a unique email) after changes
    finish: Callable[[Data, int], Data] | None = None
    #: valid mode: whether the drawn values are really acceptable (else the example is skipped)
    accept: Callable[[Data], bool] | None = None
    #: called with the values after a submission that wrote (e.g. to start a fresh draft)
    after_write: Callable[[Data], None] | None = None
    #: extra per-response checks: (values, status, changes)
    check: Callable[[Data, int, Diff], None] | None = None


class LoggedErrors(logging.Handler):
    """Collects what the application's error handler logs, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.texts.append(text)


def send(client: FlaskClient, method: str, url: str, values: Data) -> Any:
    payload = {k: v for k, v in values.items() if v is not MISSING}
    if method == "GET":
        return client.get(url, query_string=payload)
    return client.post(url, data=payload)


def fuzz(app: Flask, target: Target, examples: int = EXAMPLES) -> None:
    """Run one form's examples against one app (see the module docstring)."""
    counter = itertools.count(1)
    errors = LoggedErrors()
    modes = [m for m in MODES if m != "invalid" or target.invalid]

    @fuzz_settings(examples)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        mode = data.draw(st.sampled_from(modes), "mode")
        n = next(counter)
        url, values = target.prepare(n)
        if mode == "valid" and target.valid:
            chosen = data.draw(st.lists(st.sampled_from(sorted(target.valid)), unique=True), "vary")
            for name in chosen:
                values[name] = data.draw(target.valid[name], name)
        elif mode == "invalid":
            name = data.draw(st.sampled_from(sorted(target.invalid)), "break")
            values[name] = data.draw(target.invalid[name], name)
        elif mode == "arbitrary":
            values = mutate(data, values)
        if mode == "valid":
            if target.finish is not None:
                values = target.finish(values, n)
            if target.accept is not None:
                assume(target.accept(values))
        note(f"{target.name} [{mode}] {target.method} {url} {values!r:.3000}")
        before = snapshot(app)
        errors.texts.clear()
        client = target.client()
        try:
            response = send(client, target.method, url, values)
        except Exception as error:  # an error inside the error handler escapes as itself
            pytest.fail(f"{target.name}: the request raised {error!r}")
        after = snapshot(app)
        changes = diff(before, after)
        status, body = response.status_code, response.get_data()
        note(f"status {status}, changes {changes}")
        logged = "\n".join(errors.texts)
        assert status != 500 and not errors.texts, f"{target.name}: {status}\n{logged}"
        assert b"Traceback" not in body, f"{target.name}: a traceback in the page"
        if mode == "valid":
            assert status in target.accepted, f"{target.name}: valid input refused ({status})"
            assert (target.optional_write and not changes) or matches(changes, target.writes), (
                f"{target.name}: valid input wrote {changes}"
            )
            if target.target is not None:
                expected = (1, 1) if target.replaces else (1, 0)
                assert changes.get(target.target) == expected, changes
        elif mode == "invalid":
            assert status in target.rejected, f"{target.name}: invalid input got {status}"
            assert not changes, f"{target.name}: invalid input wrote {changes}"
        else:
            allowed = (*target.accepted, *target.rejected, *target.others)
            assert status in allowed, f"{target.name}: unexpected status {status}"
            assert not changes or matches(changes, target.writes), (
                f"{target.name}: a partial or unexpected write {changes}"
            )
            if status == 400:
                assert not changes, f"{target.name}: a 400 that wrote {changes}"
        if target.check is not None:
            target.check(values, status, changes)
        if changes and target.after_write is not None:
            target.after_write(values)

    app.logger.addHandler(errors)
    try:
        run()
    finally:
        app.logger.removeHandler(errors)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt parameters (verification reads them from the hash, so it is cheap too)."""

    def cheap(password: str) -> str:
        return generate_password_hash(password, method="scrypt:1024:8:1")

    monkeypatch.setattr(accounts_ops, "hash_password", cheap)
    monkeypatch.setattr(auth_views, "DUMMY_HASH", cheap("not-a-real-password-ever"))


@dataclass
class World:
    """The signed-in clinician's clinic with a patient, an assessment and plans to act on."""

    app: Flask
    client: FlaskClient
    user: User
    patient_id: int
    counter: Iterator[int]

    def draft(self, *, warnings: bool = False) -> int:
        """A new draft plan for the patient; with warnings, one that has some to acknowledge."""
        plan_id = new_plan(
            self.client, self.patient_id, once=f"draft-{next(self.counter)}", start="2026-10-05"
        )  # a past month: every plan day can be logged
        if warnings:
            data = editor_data(self.client, plan_id)
            data["items-0-hold_s"] = "12"  # above the 10 s warning line
            data["items-0-rest_s"] = "12"
            saved = self.client.post(f"/plans/{plan_id}/edit", data={**data, "action": "save"})
            assert saved.status_code == 302
        return plan_id

    def issued(self) -> int:
        plan_id = self.draft()
        issue(self.client, plan_id)
        return plan_id


@pytest.fixture
def world(
    app: Flask, signed_in: FlaskClient, clinician: User, make_patient: Any, make_assessment: Any
) -> World:
    patient_id = make_patient(clinician.clinic_id, given_name="Hoa", family_name="Nguyễn")
    make_assessment(patient_id, clinician.id)
    return World(app, signed_in, clinician, patient_id, itertools.count(1))


# --- sign-in, setup, passwords ------------------------------------------------------------------


def test_fuzz_login(app: Flask, clinician: User) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = app.config["LOGIN_LIMIT_PER_ADDRESS"] = 10**6
    email = clinician.email
    fuzz(
        app,
        Target(
            "login",
            lambda n: ("/login", {"email": email, "password": PASSWORD}),
            app.test_client,  # a fresh client each time: a signed-in one is just redirected
            writes={"user_account": rows(1, 1)},  # last_login_at (auth.* audit rows left out)
            target="user_account",
            replaces=True,
            valid={"email": st.sampled_from([email.upper(), f"  {email} ", email.title()])},
            invalid={
                "email": st.one_of(
                    st.just(MISSING), st.just(""), too_long(254), st.just("nobody@clinic.test")
                ),
                "password": st.one_of(
                    st.just(MISSING),
                    st.just(""),
                    too_long(128),
                    st.text().filter(lambda p: p != PASSWORD),
                ),
            },
            rejected=(400, 429),
        ),
    )


def test_fuzz_setup(app: Flask) -> None:
    def reset(values: Data) -> None:
        """Undo a completed setup, so the next example meets the setup form again."""
        with app.app_context():
            for table in ("audit_event", "submission", "user_account", "clinic"):
                db.session.execute(sa.delete(db.metadata.tables[table]))
            db.session.commit()
        app.extensions.pop("floorplan.setup_done", None)

    def baseline(n: int) -> tuple[str, Data]:
        password = f"a fresh setup phrase {n}"
        return "/setup", {
            "clinic_name": "Harbour Physio",
            "clinic_phone": "+44 20 7946 0000",
            "paper": "a4",
            "name": "Ada Admin",
            "email": f"ada{n}@harbour.test",
            "password": password,
            "confirm": password,
        }

    def finish(values: Data, n: int) -> Data:
        values["email"] = f"{values['email'].partition('@')[0]}.n{n}@harbour.test"
        return {**values, "confirm": values["password"]}

    fuzz(
        app,
        Target(
            "setup",
            baseline,
            app.test_client,
            writes={"clinic": rows(1), "user_account": rows(1), "audit_event": rows(2)},
            target="user_account",
            valid={
                "clinic_name": line(120),
                "clinic_phone": line(40),
                "paper": choice(Paper),
                "name": line(120),
                "email": valid_email_local().map(lambda s: f"{s}@harbour.test"),
                "password": strong_password(),
            },
            invalid={
                "clinic_name": bad_text(120),
                "clinic_phone": bad_text(40),
                "paper": not_one_of(Paper),
                "name": bad_text(120),
                "email": st.one_of(bad_text(254), st.just("not-an-email"), st.just("a@b@c")),
                "password": st.sampled_from(["short", "password1234", "aaaaaaaaaaaaaaa", ""]),
                "confirm": st.just("something else entirely"),
            },
            finish=finish,
            accept=lambda v: (
                password_problem(v["password"], email=v["email"], name=v["name"]) is None
            ),
            after_write=reset,
        ),
    )


def test_fuzz_change_password(app: Flask, signed_in: FlaskClient, clinician: User) -> None:
    current = {"password": PASSWORD}

    def baseline(n: int) -> tuple[str, Data]:
        new = f"another good phrase {n}"
        return "/account/password", {
            "current": current["password"],
            "password": new,
            "confirm": new,
        }

    def changed(values: Data) -> None:
        current["password"] = values["password"]

    fuzz(
        app,
        Target(
            "change password",
            baseline,
            lambda: signed_in,  # re-signed in after a change, so one client does
            writes={"user_account": rows(1, 1), "audit_event": rows(1)},
            target="user_account",
            replaces=True,
            valid={"password": strong_password()},
            invalid={
                "current": st.one_of(st.just(MISSING), st.just("not my password at all")),
                "password": st.sampled_from(
                    ["short", "password1234", "aaaaaaaaaaaaaaa", "x" * 129]
                ),
                "confirm": st.just("something else entirely"),
            },
            finish=lambda values, n: {**values, "confirm": values["password"]},
            accept=lambda v: password_problem(v["password"], email=clinician.email) is None,
            after_write=changed,
        ),
    )


# --- administration -----------------------------------------------------------------------------


def test_fuzz_admin_add_user(app: Flask, admin_client: FlaskClient) -> None:
    def baseline(n: int) -> tuple[str, Data]:
        password = f"welcome aboard phrase {n}"
        return "/admin/users", {
            "name": "Ben Clinician",
            "email": f"ben{n}@clinic.test",
            "role": "clinician",
            "password": password,
            "confirm": password,
            "once": f"user-{n}",
        }

    def finish(values: Data, n: int) -> Data:
        values["email"] = f"{values['email'].partition('@')[0]}.n{n}@clinic.test"
        return {**values, "confirm": values["password"]}

    fuzz(
        app,
        Target(
            "admin add user",
            baseline,
            lambda: admin_client,
            writes={"user_account": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="user_account",
            valid={
                "once": TAMPERED_ONCE,
                "name": line(120),
                "email": valid_email_local().map(lambda s: f"{s}@clinic.test"),
                "role": choice(Role),
                "password": strong_password(),
            },
            invalid={
                "name": bad_text(120),
                "email": st.one_of(bad_text(254), st.just("not-an-email")),
                "role": not_one_of(Role),
                "password": st.sampled_from(["short", "password1234", ""]),
                "confirm": st.just("something else entirely"),
            },
            finish=finish,
            accept=lambda v: (
                password_problem(v["password"], email=v["email"], name=v["name"]) is None
            ),
        ),
    )


def test_fuzz_clinic_settings(app: Flask, admin_client: FlaskClient, admin: User) -> None:
    def baseline(n: int) -> tuple[str, Data]:
        with app.app_context():
            clinic = db.session.get(Clinic, admin.clinic_id)
            version, name = clinic.version, clinic.name
        return "/admin/clinic", {
            "version": str(version),
            "name": name,
            "address": "1 Harbour Road",
            "phone": "+44 20 7946 0001",
            "email": "",
            "paper": "a4",
            "footer_text": f"Open weekdays ({n})",
        }

    def finish(values: Data, n: int) -> Data:
        return {**values, "phone": f"{values['phone'][:30]} ({n})"}  # always a change

    fuzz(
        app,
        Target(
            "clinic settings",
            baseline,
            lambda: admin_client,
            writes={"clinic": same_or_replaced, "audit_event": rows(1)},
            target="clinic",
            replaces=True,
            valid={
                "name": line(120),
                "address": lines(300),
                "phone": line(30),
                "email": st.one_of(st.just(""), valid_email_local().map(lambda s: f"{s}@x.test")),
                "paper": choice(Paper),
                "footer_text": line(300, required=False),
            },
            invalid={
                "name": bad_text(120),
                "address": bad_text(300, required=False, multiline=True),
                "phone": bad_text(40),
                "email": st.just("not-an-email"),
                "paper": not_one_of(Paper),
                "footer_text": bad_text(300, required=False),
                "version": st.sampled_from(["0", "-1", "x", "", "²"]),
            },
            finish=finish,
            rejected=(400, 409),
        ),
    )


def test_fuzz_audit_filter(app: Flask, admin_client: FlaskClient) -> None:
    from prescriptions.audit.views import AUDIT_GROUPS

    fuzz(
        app,
        Target(
            "audit filter",
            lambda n: (
                "/admin/audit",
                {"action": "", "actor": "", "first": "", "last": "", "page": "1"},
            ),
            lambda: admin_client,
            writes={},
            method="GET",
            accepted=(200,),
            valid={
                "action": choice(AUDIT_GROUPS),
                "actor": line(254, required=False),
                "first": dates(date(2000, 1, 1), date(2100, 1, 1)),
                "last": dates(date(2000, 1, 1), date(2100, 1, 1)),
                "page": st.integers(-(10**20), 10**20).map(str),
            },
            invalid={
                "action": not_one_of(AUDIT_GROUPS),
                "actor": st.one_of(too_long(254), with_control()),
                "first": st.one_of(BAD_DATES, st.just("1999-12-31")),
                "last": st.one_of(BAD_DATES, st.just("9999-12-31")),
            },
        ),
    )


# --- patients and assessments -------------------------------------------------------------------


def patient_fields(n: int) -> Data:
    return {
        "given_name": "Maria",
        "family_name": f"Fuzz{n}",
        "preferred_name": "",
        "date_of_birth": "1970-05-17",
        "chart_number": f"F{n:05d}",
        "cue_set": "female",
        "diagnoses": ["stress_ui"],
        "precautions": [],
        "phone": "",
        "email": "",
        "address": "",
        "notes": "",
    }


CHART = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,20}", fullmatch=True)
PATIENT_VALID = {
    "given_name": line(100),
    "family_name": line(100),
    "preferred_name": line(100, required=False),
    "date_of_birth": st.one_of(st.just(""), dates(date(1900, 1, 1), date.today())),
    "chart_number": CHART,
    "cue_set": choice(CueSet),
    "diagnoses": subsets(Diagnosis),
    "precautions": subsets(Precaution),
    "phone": line(40, required=False),
    "email": st.one_of(st.just(""), valid_email_local().map(lambda s: f"{s}@example.org")),
    "address": lines(300),
    "notes": lines(5000),
}
PATIENT_INVALID = {
    "given_name": bad_text(100),
    "family_name": bad_text(100),
    "preferred_name": bad_text(100, required=False),
    "date_of_birth": st.one_of(
        BAD_DATES, st.just("1899-12-31"), st.just((date.today() + timedelta(days=1)).isoformat())
    ),
    "chart_number": st.one_of(
        bad_text(40), st.sampled_from(["-leading", "has space", "a#b", "EXISTING-1"])
    ),
    "cue_set": not_one_of(CueSet),
    "diagnoses": st.lists(not_one_of(Diagnosis), min_size=1, max_size=2),
    "precautions": st.lists(not_one_of(Precaution), min_size=1, max_size=2),
    "phone": bad_text(40, required=False),
    "email": st.sampled_from(["not-an-email", "a@b@c", "@example.org"]),
    "address": bad_text(300, required=False, multiline=True),
    "notes": bad_text(5000, required=False, multiline=True),
}


def unique_chart(values: Data, n: int) -> Data:
    return {**values, "chart_number": f"{values['chart_number']}-n{n}"}


def test_fuzz_new_patient(app: Flask, world: World, make_patient: Any) -> None:
    make_patient(world.user.clinic_id, chart_number="EXISTING-1")
    fuzz(
        app,
        Target(
            "new patient",
            lambda n: ("/patients/new", {**patient_fields(n), "once": f"patient-{n}"}),
            lambda: world.client,
            writes={"patient": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="patient",
            valid={**PATIENT_VALID, "once": TAMPERED_ONCE},
            invalid=PATIENT_INVALID,
            finish=unique_chart,
        ),
    )


def test_fuzz_edit_patient(app: Flask, world: World, make_patient: Any) -> None:
    make_patient(world.user.clinic_id, chart_number="EXISTING-1")
    pid = world.patient_id

    def baseline(n: int) -> tuple[str, Data]:
        with app.app_context():
            version = db.session.get(Patient, pid).version
        return f"/patients/{pid}/edit", {**patient_fields(n), "version": str(version)}

    fuzz(
        app,
        Target(
            "edit patient",
            baseline,
            lambda: world.client,
            writes={"patient": same_or_replaced, "audit_event": rows(1)},
            target="patient",
            replaces=True,
            valid=PATIENT_VALID,
            invalid={**PATIENT_INVALID, "version": st.sampled_from(["0", "-1", "x", "", "²"])},
            finish=unique_chart,
            rejected=(400, 409),
        ),
    )


def test_fuzz_patient_list_query(app: Flask, world: World) -> None:
    fuzz(
        app,
        Target(
            "patient list",
            lambda n: ("/patients", {"q": "Hoa", "sort": "name", "page": "1", "archived": ""}),
            lambda: world.client,
            writes={},
            method="GET",
            accepted=(200,),
            rejected=(),
            valid={
                "q": SEARCH,
                "sort": st.sampled_from(["name", "chart", "recent"]),
                "page": st.integers(-(10**20), 10**20).map(str),
                "archived": st.sampled_from(["", "1", "0"]),
            },
        ),
    )
    search_every_nasty_text(world.client, "/patients")


def test_fuzz_new_assessment(app: Flask, world: World) -> None:
    pid = world.patient_id
    scores = {
        "oxford_grade": (0, 5),
        "endurance_s": (0, 60),
        "repetitions": (0, 30),
        "fast_contractions": (0, 30),
        "pain": (0, 10),
        "leaks_per_week": (0, 500),
        "pads_per_day": (0, 30),
        "iciq_total": (0, 21),
    }
    baseline = {
        "assessed_on": (date.today() - timedelta(days=1)).isoformat(),
        "oxford_grade": "3",
        "endurance_s": "4",
        "repetitions": "6",
        "fast_contractions": "5",
        "relaxation": "full",
        "pain": "1",
        "leaks_per_week": "5",
        "pads_per_day": "1",
        "technique_confirmed": "y",
        "iciq_total": "9",
        "notes": "",
    }
    fuzz(
        app,
        Target(
            "new assessment",
            lambda n: (f"/patients/{pid}/assessments/new", {**baseline, "once": f"assess-{n}"}),
            lambda: world.client,
            writes={"assessment": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="assessment",
            valid={
                "once": TAMPERED_ONCE,
                **{name: numbers(*bounds) for name, bounds in scores.items()},
                "assessed_on": dates(date(2000, 1, 1), date.today()),
                "relaxation": st.one_of(st.just(""), choice(Relaxation)),
                "technique_confirmed": st.sampled_from(["y", MISSING]),
                "notes": lines(5000),
            },
            invalid={
                **{name: bad_number(*bounds) for name, bounds in scores.items()},
                "assessed_on": st.one_of(
                    BAD_DATES,
                    st.just(MISSING),
                    st.just((date.today() + timedelta(days=1)).isoformat()),
                ),
                "relaxation": not_one_of([*Relaxation, ""]),
                "notes": bad_text(5000, required=False, multiline=True),
            },
        ),
    )


# --- plans ------------------------------------------------------------------------------------

PLAN_START = (date(2000, 1, 1), date(2100, 12, 31))
BAD_STARTS = st.one_of(
    BAD_DATES, st.sampled_from(["1999-12-31", "2101-01-01", ""]), st.just(MISSING)
)


def test_fuzz_new_plan(app: Flask, world: World) -> None:
    pid = world.patient_id
    fuzz(
        app,
        Target(
            "new plan",
            lambda n: (
                f"/patients/{pid}/plans/new",
                {"template": "strengthening", "start_date": "2026-10-05", "once": f"plan-{n}"},
            ),
            lambda: world.client,
            writes={
                "plan": rows(1),
                "plan_item": lambda a, r: a > 0 and r == 0,
                "submission": rows(1),
                "audit_event": rows(1),
            },
            target="plan",
            valid={
                "once": TAMPERED_ONCE,
                "template": choice(BUILTIN_TEMPLATES),
                "start_date": dates(*PLAN_START),
            },
            invalid={
                "template": st.one_of(
                    st.just(MISSING),
                    st.sampled_from(["clinic:999999", "clinic:²"]),
                    not_one_of(BUILTIN_TEMPLATES),
                ),
                "start_date": BAD_STARTS,
            },
        ),
    )


PLAN_SAVE_WRITES: dict[str, Rows] = {
    "plan": rows(1, 1),
    "plan_item": any_rows,
    "audit_event": rows(1),
}


def editor_target(world: World, name: str, plan_id: int, **overrides: Any) -> Target:
    low, high = FIELD_BOUNDS["reps"]
    defaults: dict[str, Any] = {
        "writes": PLAN_SAVE_WRITES,
        "target": "plan",
        "replaces": True,
        "valid": {
            "title": line(120),
            "notes_to_patient": lines(1500),
            "paper": st.one_of(st.just(""), choice(Paper)),
            "cue_set": st.one_of(st.just(""), choice(CueSet)),
            "large_print": st.sampled_from(["y", MISSING]),
            "start_date": dates(*PLAN_START),
            "items-0-note": line(200, required=False),
        },
        "invalid": {
            "title": bad_text(120),
            "notes_to_patient": bad_text(1500, required=False, multiline=True),
            "start_date": BAD_STARTS,
            "paper": not_one_of([*Paper, ""]),
            "cue_set": not_one_of([*CueSet, ""]),
            "items-0-reps": bad_number(low, high),
            "items-0-sets": bad_number(*FIELD_BOUNDS["sets"]),
            "items-0-sessions_per_day": st.one_of(
                st.just(""), bad_number(*FIELD_BOUNDS["sessions_per_day"])
            ),
            "items-0-week": st.sampled_from(["0", "5", "x", "", "²"]),
            "items-0-exercise": not_one_of(BUILTIN_EXERCISES),
            "items-0-position": st.sampled_from(["upside_down", ""]),
            "items-0-note": bad_text(200, required=False),
            "version": st.sampled_from(["0", "-1", "x", "", "²"]),
        },
        "rejected": (400, 409),
        "others": (200,),  # a mutated "action" is a structural action: the editor again
    }
    defaults.update(overrides)

    def baseline(n: int) -> tuple[str, Data]:
        return f"/plans/{plan_id}/edit", {**editor_data(world.client, plan_id), "action": "save"}

    return Target(name, baseline, lambda: world.client, **defaults)


def test_fuzz_plan_editor_save(app: Flask, world: World) -> None:
    fuzz(app, editor_target(world, "plan editor save", world.draft()))


ACTIONS = st.one_of(
    st.builds(
        lambda verb, number: f"{verb}:{number}",
        st.sampled_from(["add", "remove", "up", "down", "copy"]),
        st.one_of(st.integers(0, 60), st.sampled_from(["²", "-1", "99999999999999999999", ""])),
    ),
    st.text(max_size=20),
)


def test_fuzz_plan_editor_actions(app: Flask, world: World) -> None:
    """Structural actions (add, remove, move, copy a week) re-show the editor and never save."""

    def never_saves(values: Data, status: int, changes: Diff) -> None:
        action = values.get("action", "save")
        action = action[0] if isinstance(action, list) and action else action
        if action not in ("save", [], MISSING):
            assert status == 200 and not changes, (status, changes)

    plan_id = world.draft()
    fuzz(
        app,
        editor_target(
            world,
            "plan editor actions",
            plan_id,
            valid={"action": ACTIONS.filter(lambda a: a != "save")},
            invalid={},
            target=None,
            optional_write=True,
            accepted=(200, 302),
            check=never_saves,
        ),
    )


class Drafts:
    """The plan an action is fuzzed on, replaced by a fresh draft once an action succeeds."""

    def __init__(self, world: World, *, warnings: bool) -> None:
        self.world, self.warnings = world, warnings
        self.current = world.draft(warnings=warnings)

    def replace(self, values: Data) -> None:
        self.current = self.world.draft(warnings=self.warnings)


def test_fuzz_issue(app: Flask, world: World) -> None:
    drafts = Drafts(world, warnings=True)

    def baseline(n: int) -> tuple[str, Data]:
        page = world.client.get(f"/plans/{drafts.current}").get_data(as_text=True)
        keys = re.findall(r'name="acknowledge" value="([^"]+)"', page)
        assert keys, "the draft should have warnings to acknowledge"
        version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
        return f"/plans/{drafts.current}/issue", {"acknowledge": keys, "version": version}

    fuzz(
        app,
        Target(
            "issue",
            baseline,
            lambda: world.client,
            writes={
                "plan": rows(1, 1),
                "warning_ack": lambda a, r: a > 0 and r == 0,
                "audit_event": rows(1),
            },
            target="plan",
            replaces=True,
            invalid={
                "acknowledge": st.one_of(
                    st.just(MISSING), st.just([]), st.lists(st.text(), min_size=1)
                )
            },
            rejected=(400,),  # the plan page again, the message beside the warnings
            others=(409,),  # a version that is not the one on the page
            after_write=drafts.replace,
        ),
    )


def test_fuzz_cancel(app: Flask, world: World) -> None:
    drafts = Drafts(world, warnings=False)
    fuzz(
        app,
        Target(
            "cancel",
            lambda n: (f"/plans/{drafts.current}/cancel", {"reason": "Patient moved away"}),
            lambda: world.client,
            writes={"plan": rows(1, 1), "audit_event": rows(1)},
            target="plan",
            replaces=True,
            valid={"reason": line(300)},
            invalid={"reason": bad_text(300)},
            rejected=(302,),
            after_write=drafts.replace,
        ),
    )


def test_fuzz_copy(app: Flask, world: World, make_patient: Any) -> None:
    charts = ["OTHER-1", "Z9/ü", "K-77"]
    for chart in charts:
        make_patient(world.user.clinic_id, chart_number=chart)
    plan_id = world.draft()
    fuzz(
        app,
        Target(
            "copy",
            lambda n: (
                f"/plans/{plan_id}/copy",
                {"chart_number": "OTHER-1", "start_date": "2026-12-07", "once": f"copy-{n}"},
            ),
            lambda: world.client,
            writes={
                "plan": rows(1),
                "plan_item": lambda a, r: a > 0 and r == 0,
                "submission": rows(1),
                "audit_event": rows(1),
            },
            target="plan",
            valid={
                "once": TAMPERED_ONCE,
                "chart_number": st.sampled_from(charts),
                "start_date": dates(*PLAN_START),
            },
            invalid={
                "chart_number": st.one_of(bad_text(40), st.just("NOPE-1")),
                "start_date": BAD_STARTS,
            },
            # 400: the message beside the field; 200: text that is no chart number lists the
            # patients it matches, to choose from
            rejected=(400, 200),
        ),
    )


def test_fuzz_save_template(app: Flask, world: World) -> None:
    plan_id = world.draft()
    fuzz(
        app,
        Target(
            "save template",
            lambda n: (
                f"/plans/{plan_id}/save-template",
                {"name": "My strength", "once": f"tpl-{n}"},
            ),
            lambda: world.client,
            writes={"clinic_template": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="clinic_template",
            valid={"once": TAMPERED_ONCE, "name": line(120)},
            invalid={"name": bad_text(120)},
            rejected=(302,),
        ),
    )


def test_fuzz_clinic_exercise(app: Flask, world: World) -> None:
    baseline = {
        "name": "Bridge with squeeze",
        "kind": "contract",
        "params": ["hold_s", "rest_s"],
        "summary": "Builds strength in a position you use every day.",
        "steps": "Lie on your back.\nLift your hips.",
        "breathing": "Breathe out as you lift.",
        "feel": "",
        "mistakes": "",
    }
    params = ["hold_s", "rest_s", "effort_pct"]
    fuzz(
        app,
        Target(
            "clinic exercise",
            lambda n: ("/exercises", {**baseline, "once": f"exercise-{n}"}),
            lambda: world.client,
            writes={"clinic_exercise": rows(1), "submission": rows(1), "audit_event": rows(1)},
            target="clinic_exercise",
            valid={
                "once": TAMPERED_ONCE,
                "name": line(80),
                "kind": choice(Kind),
                "params": subsets(params),
                "summary": line(300),
                "steps": lines(3000, required=True),
                "breathing": lines(1000),
                "feel": lines(1000),
                "mistakes": lines(2000),
            },
            invalid={
                "name": bad_text(80),
                "kind": not_one_of(Kind),
                "params": st.lists(not_one_of(params), min_size=1, max_size=2),
                "summary": bad_text(300),
                "steps": bad_text(3000, multiline=True),
                "breathing": bad_text(1000, required=False, multiline=True),
                "feel": bad_text(1000, required=False, multiline=True),
                "mistakes": bad_text(2000, required=False, multiline=True),
            },
        ),
    )


# --- logs and printing --------------------------------------------------------------------------


def test_fuzz_weekly_log(app: Flask, world: World) -> None:
    """One filled day (day 0 of a week not logged yet), the rest of the week sent back empty."""
    plans = [world.issued()]

    def free_week() -> tuple[int, int, int, dict[int, str]]:
        with app.app_context():
            for plan_id in plans:
                plan = db.session.get(Plan, plan_id)
                logged = {
                    e.day: e.version
                    for e in db.session.scalars(
                        sa.select(LogEntry).where(LogEntry.plan_id == plan_id)
                    )
                }
                for week in (1, 2, 3, 4):
                    first = plan.start_date + timedelta(days=7 * (week - 1))
                    if first not in logged:
                        versions = {
                            d: str(logged.get(first + timedelta(days=d), "")) for d in range(7)
                        }
                        prescribed = prescribed_per_day(plan_items(plan.items), week)
                        return plan_id, week, prescribed, versions
        plans.append(world.issued())
        return free_week()

    state: dict[str, int] = {}

    def baseline(n: int) -> tuple[str, Data]:
        plan_id, week, prescribed, versions = free_week()
        state["prescribed"] = prescribed
        filled = {f"days-{d}-version": v for d, v in versions.items()}
        filled |= {"days-0-sessions_done": "1", "days-0-leaks": "2", "days-0-note": "ok"}
        return f"/plans/{plan_id}/weeks/{week}/log", whole_week(filled)

    # Every plan week of the strengthening template prescribes at least 2 sessions a day.
    fuzz(
        app,
        Target(
            "weekly log",
            baseline,
            lambda: world.client,
            writes={"log_entry": any_rows, "audit_event": rows(1)},
            target="log_entry",
            valid={
                "days-0-sessions_done": numbers(0, 2, optional=False),
                "days-0-longest_hold_s": numbers(0, 120),
                "days-0-leaks": numbers(0, 50),
                "days-0-leak_trigger": line(120, required=False),
                "days-0-urgency": st.sampled_from(["", "0", "1", "2", "3"]),
                "days-0-pain": numbers(0, 10),
                "days-0-note": line(300, required=False),
                # a new day carries no version; a tampered one is ignored, never a crash
                "days-0-version": st.sampled_from(["", "x", "²"]),
            },
            invalid={
                "days-0-sessions_done": st.one_of(
                    bad_number(0, 10), st.just(""), st.just("11"), st.just(MISSING)
                ),
                "days-0-longest_hold_s": bad_number(0, 120),
                "days-0-leaks": bad_number(0, 50),
                "days-0-leak_trigger": bad_text(120, required=False),
                "days-0-urgency": not_one_of(["", "0", "1", "2", "3"]),
                "days-0-pain": bad_number(0, 10),
                "days-0-note": bad_text(300, required=False),
                "days-6-sessions_done": st.just(MISSING),
            },
            rejected=(400, 409),
        ),
    )
    assert state["prescribed"] >= 2


def is_pdf(body: bytes) -> bool:
    from pypdf import PdfReader

    return body.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(body)).pages) > 0


def test_fuzz_handout_options(app: Flask, world: World) -> None:
    plan_id = world.issued()

    def pdf_when_ok(values: Data, status: int, changes: Diff) -> None:
        if status == 200:
            assert changes == {"audit_event": (1, 0)}

    fuzz(
        app,
        Target(
            "handout options",
            lambda n: (
                f"/plans/{plan_id}/handout.pdf",
                {"paper": "", "large_print": "", "sheets": MISSING},
            ),
            lambda: world.client,
            writes={"audit_event": rows(1)},  # the print is audited
            method="GET",
            accepted=(200,),
            valid={
                "paper": st.one_of(st.just(""), choice(Paper)),
                "large_print": st.sampled_from(["", "1", "0"]),
                "sheets": st.sampled_from(["y", "", MISSING]),
            },
            invalid={"paper": not_one_of([*Paper, ""]), "large_print": not_one_of(["", "1", "0"])},
            check=pdf_when_ok,
        ),
        examples=20,
    )


def test_fuzz_batch_print(app: Flask, world: World) -> None:
    current = [str(world.issued()), str(world.issued())]
    fuzz(
        app,
        Target(
            "batch print",
            lambda n: ("/print", {"plans": [current[0]]}),
            lambda: world.client,
            writes={"audit_event": rows(1)},
            target="audit_event",
            accepted=(200,),
            valid={"plans": st.lists(st.sampled_from(current), min_size=1, unique=True)},
            invalid={
                "plans": st.one_of(
                    st.just(MISSING),
                    st.just([]),
                    st.lists(
                        st.sampled_from(["0", "x", "²", "99999999999999999999", "-1"]), min_size=1
                    ),
                )
            },
        ),
        examples=20,
    )


def test_fuzz_batch_print_search(app: Flask, world: World) -> None:
    world.issued()
    fuzz(
        app,
        Target(
            "batch print search",
            lambda n: ("/print", {"q": "Hoa"}),
            lambda: world.client,
            writes={},
            method="GET",
            accepted=(200,),
            rejected=(),
            valid={"q": SEARCH},
        ),
        examples=20,
    )
    search_every_nasty_text(world.client, "/print")


# --- the PDF renderer with arbitrary Unicode ------------------------------------------------------


def test_fuzz_handout_renders_any_unicode(app: Flask, world: World) -> None:
    """Whatever text is stored (even what the forms would refuse), the handout is a PDF."""
    plan_id = world.issued()
    errors = LoggedErrors()

    def text(max_len: int) -> st.SearchStrategy[str]:
        # NUL is the one character PostgreSQL cannot store; everything else is fair game.
        return st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=max_len
        )

    @fuzz_settings(20)
    @given(
        given_name=text(100).filter(lambda s: bool(s.strip())),
        family_name=text(100),
        preferred_name=text(100),
        notes=text(400),
        title=text(120).filter(lambda s: bool(s.strip())),
        notes_to_patient=text(1500),
        item_note=text(200),
        footer=text(300),
        large_print=st.booleans(),
    )
    def run(
        given_name: str,
        family_name: str,
        preferred_name: str,
        notes: str,
        title: str,
        notes_to_patient: str,
        item_note: str,
        footer: str,
        large_print: bool,
    ) -> None:
        with app.app_context():
            plan = db.session.get(Plan, plan_id)
            patient = db.session.get(Patient, world.patient_id)
            clinic = db.session.get(Clinic, world.user.clinic_id)
            patient.given_name, patient.family_name = given_name, family_name
            patient.preferred_name, patient.notes = preferred_name, notes
            plan.title, plan.notes_to_patient = title, notes_to_patient
            first = db.session.scalars(
                sa.select(PlanItem)
                .where(PlanItem.plan_id == plan_id)
                .order_by(PlanItem.id)
                .limit(1)
            ).one()
            first.note = item_note
            clinic.footer_text = footer
            db.session.commit()
        errors.texts.clear()
        query = {"large_print": "1" if large_print else "0"}
        response = world.client.get(f"/plans/{plan_id}/handout.pdf", query_string=query)
        logged = "\n".join(errors.texts)
        assert response.status_code == 200, f"{response.status_code}\n{logged}"
        assert response.mimetype == "application/pdf"
        assert is_pdf(response.get_data())

    app.logger.addHandler(errors)
    try:
        run()
    finally:
        app.logger.removeHandler(errors)


def test_signed_in_fixture_still_signs_in(app: Flask, clinician: User) -> None:
    """The cheap hashing above still lets the fixtures' accounts sign in through the real form."""
    assert login(app.test_client(), clinician.email).status_code == 302
