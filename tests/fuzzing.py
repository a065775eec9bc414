"""The fuzz harness: Hypothesis fuzzing of every form, through the Flask test client.

This module holds what every target shares (the strategies, `Target`, `fuzz`, the before/after
snapshot of every table, and the `world` and `cheap_password_hashing` fixtures, which conftest.py
exposes). The targets live beside the tests of the feature they fuzz, as `tests/test_<x>_fuzz.py`
next to `tests/test_<x>.py`; each marks itself with `pytestmark` to use the cheap hashing.

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
tests examine, and the default parameters would make the fuzz modules several times slower.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
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
from prescriptions.extensions import db
from prescriptions.models import User
from prescriptions.web.forms import strip as strip_invisible

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
    """Every row of every table (auth.* audit rows and sign-in counters left out), per table."""
    result: Snapshot = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name == "sign_in_counter":  # sign-in bookkeeping, like auth.* audit rows
                continue
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


def one_row_kept(a: int, r: int) -> bool:
    """A running total's row: untouched, added by the first write, or replaced by a later one."""
    return (a, r) in {(0, 0), (1, 0), (1, 1)}


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
    return text.filter(_visible) if required else text


def _visible(text: str) -> bool:
    """Something a reader would see: a required field refuses white space and characters that
    print nothing alike (a lone soft hyphen, U+00AD, once drew a 400 here as if valid)."""
    return bool(strip_invisible(text))


def lines(max_len: int, *, required: bool = False) -> st.SearchStrategy[str]:
    """Multi-line Unicode text a form must accept."""
    text = st.text(_MULTILINE, min_size=1 if required else 0, max_size=min(max_len, 80))
    text = st.one_of(text, st.just(("Ω\r\n" * max_len)[:max_len]))
    return text.filter(_visible) if required else text


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


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt parameters (verification reads them from the hash, so it is cheap too).

    Not autouse: each fuzz module asks for it with `pytestmark = FUZZ` (below)."""

    def cheap(password: str) -> str:
        return generate_password_hash(password, method="scrypt:1024:8:1")

    monkeypatch.setattr(accounts_ops, "hash_password", cheap)
    monkeypatch.setattr(auth_views, "DUMMY_HASH", cheap("not-a-real-password-ever"))


@dataclass
class World:
    """The signed-in clinician's clinic with a patient, an assessment and plans to act on.

    Plans are made through the operations (conftest's `make_plan`, `issue_plan`): the forms that
    make them are fuzzed as targets of their own.
    """

    app: Flask
    client: FlaskClient
    user: User
    patient_id: int
    make_plan: Callable[..., int]
    issue_plan: Callable[..., int]

    def draft(self, *, warnings: bool = False) -> int:
        """A new draft plan for the patient; with warnings, one that has some to acknowledge."""
        above_the_warning_line = {"hold_s": 12, "rest_s": 12}  # holds over 10 s warn
        return self.make_plan(
            self.patient_id,
            by=self.user.id,
            start=date(2026, 10, 5),  # a past month: every plan day can be logged
            first_item=above_the_warning_line if warnings else None,
        )

    def issued(self) -> int:
        return self.issue_plan(self.draft(), by=self.user.id)


@pytest.fixture
def world(
    app: Flask,
    signed_in: FlaskClient,
    clinician: User,
    make_patient: Any,
    make_assessment: Any,
    make_plan: Any,
    issue_plan: Any,
) -> World:
    patient_id = make_patient(clinician.clinic_id, given_name="Hoa", family_name="Nguyễn")
    make_assessment(patient_id, clinician.id)
    return World(app, signed_in, clinician, patient_id, make_plan, issue_plan)


def is_pdf(body: bytes) -> bool:
    from pypdf import PdfReader

    return body.startswith(b"%PDF-") and len(PdfReader(io.BytesIO(body)).pages) > 0


#: Every fuzz module sets `pytestmark = FUZZ`, so its accounts are hashed cheaply from the start.
FUZZ = pytest.mark.usefixtures("cheap_password_hashing")
