"""Password reset links (admin-made and from the command line), changing one's own password
under the sign-in limits, and sign-in events kept with the clinic."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import sqlalchemy as sa

from prescriptions.extensions import db
from prescriptions.models import AuditEvent, PasswordReset, User, utcnow
from tests.factories import PASSWORD, login

NEW = "a brand new long passphrase"
GONE = "This link no longer works"


def make_link(admin_client, user_id: int) -> str:
    """Press "Reset password" on the people page; the path of the link shown."""
    response = admin_client.post(f"/admin/users/{user_id}/reset-link")
    assert response.status_code == 200, response.data
    link = re.search(r'id="reset-link"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert link, response.data
    return "/" + html.unescape(link.group(1)).split("/", 3)[3]


def _choose(client, path: str, password: str = NEW):
    return client.post(path, data={"password": password, "confirm": password})


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        stmt = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(db.session.scalars(stmt))


def test_an_admin_made_link_works_once_and_ends_every_session(app, admin_client, clinician, admin):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, clinician.email)
    login(phone, clinician.email)
    path = make_link(admin_client, clinician.id)
    stranger = app.test_client()
    page = stranger.get(path)
    assert page.status_code == 200 and clinician.email in page.get_data(as_text=True)
    response = _choose(stranger, path)
    assert response.status_code == 302 and response.location.endswith("/login")
    assert laptop.get("/patients").status_code == 302  # every session of the account ended
    assert phone.get("/patients").status_code == 302
    assert login(app.test_client(), clinician.email, PASSWORD).status_code == 400
    assert login(app.test_client(), clinician.email, NEW).status_code == 302
    # used: gone, for a view and for a second try
    assert GONE in stranger.get(path).get_data(as_text=True)
    assert _choose(stranger, path, "yet another long passphrase").status_code == 404
    assert login(app.test_client(), clinician.email, NEW).status_code == 302
    made, used = _events(app, "auth.reset_made"), _events(app, "auth.reset_used")
    assert [(e.clinic_id, e.user_id, e.record_id) for e in made] == [
        (clinician.clinic_id, admin.id, clinician.id)
    ]
    assert [(e.clinic_id, e.record_id) for e in used] == [(clinician.clinic_id, clinician.id)]


def test_only_the_token_hash_is_stored(app, admin_client, clinician):
    path = make_link(admin_client, clinician.id)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits
    with app.app_context():
        reset = db.session.scalar(sa.select(PasswordReset))
        assert reset.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(db.session.execute(sa.select(PasswordReset.__table__)).all())


def test_a_link_works_only_within_its_time(app, admin_client, clinician):
    path = make_link(admin_client, clinician.id)
    with app.app_context():
        reset = db.session.scalar(sa.select(PasswordReset))
        assert reset.expires_at - reset.created_at == timedelta(hours=24)
        reset.expires_at = utcnow() + timedelta(minutes=1)  # nearly over: still good
        db.session.commit()
    client = app.test_client()
    assert client.get(path).status_code == 200
    with app.app_context():
        db.session.scalar(sa.select(PasswordReset)).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert GONE in client.get(path).get_data(as_text=True)
    assert _choose(client, path).status_code == 404
    assert login(app.test_client(), clinician.email, PASSWORD).status_code == 302


def test_a_newer_link_voids_the_older(app, admin_client, clinician):
    first = make_link(admin_client, clinician.id)
    second = make_link(admin_client, clinician.id)
    client = app.test_client()
    assert client.get(first).status_code == 404
    assert _choose(client, second).status_code == 302


def test_unknown_and_used_links_look_alike(app, admin_client, clinician):
    path = make_link(admin_client, clinician.id)
    _choose(app.test_client(), path)
    used = app.test_client().get(path)
    unknown = app.test_client().get("/reset/" + "x" * 43)
    assert used.status_code == unknown.status_code == 404
    assert used.get_data() == unknown.get_data()


def test_the_new_password_follows_the_policy(app, admin_client, clinician):
    path = make_link(admin_client, clinician.id)
    client = app.test_client()
    response = _choose(client, path, "short")
    assert response.status_code == 400 and "Use at least 12 characters." in response.get_data(
        as_text=True
    )
    response = _choose(client, path, clinician.email)
    assert "Don&#39;t use your name or email" in response.get_data(as_text=True)
    assert _choose(client, path).status_code == 302  # the link survived the refused tries


def test_a_reset_in_a_signed_in_browser_signs_it_out_and_keeps_nothing(
    app, admin_client, clinician
):
    browser = app.test_client()
    login(browser, clinician.email)
    browser.get("/patients")
    path = make_link(admin_client, clinician.id)
    assert _choose(browser, path).status_code == 302
    with browser.session_transaction() as held:
        assert set(held) == {"_flashes"}
    assert browser.get("/patients").status_code == 302


def test_no_link_for_a_deactivated_account(app, admin_client, clinician):
    path = make_link(admin_client, clinician.id)
    admin_client.post(f"/admin/users/{clinician.id}/deactivate")
    assert app.test_client().get(path).status_code == 404
    response = admin_client.post(f"/admin/users/{clinician.id}/reset-link", follow_redirects=True)
    assert "Reactivate" in response.get_data(as_text=True)


def test_the_link_uses_the_configured_public_address(app_factory, clinician, admin):
    app = app_factory(PUBLIC_URL="https://floorplan.example.org/")
    client = app.test_client()
    login(client, admin.email)
    page = client.post(f"/admin/users/{clinician.id}/reset-link").get_data(as_text=True)
    # not the Host header the request happened to carry
    assert 'value="https://floorplan.example.org/reset/' in page and "//localhost" not in page


def test_the_link_without_a_public_address_is_this_sites_own_under_a_path_prefix(
    app, clinician, admin
):
    # Served under /floorplan (SCRIPT_NAME): the link carries the prefix once, not twice.
    client = app.test_client()
    login(client, admin.email)
    page = client.post(
        f"/admin/users/{clinician.id}/reset-link", base_url="http://localhost/floorplan/"
    ).get_data(as_text=True)
    link = re.search(r'id="reset-link"[^>]*value="([^"]+)"', page)
    assert link and html.unescape(link.group(1)).startswith("http://localhost/floorplan/reset/")
    assert "/floorplan/floorplan/" not in page


def test_set_password_command(app, runner, clinician, admin_client, monkeypatch):
    other = app.test_client()
    login(other, clinician.email)
    path = make_link(admin_client, clinician.id)
    monkeypatch.setenv("FLOORPLAN_NEW_PASSWORD", NEW)
    result = runner.invoke(args=["set-password", "--email", clinician.email.upper()])
    assert result.exit_code == 0, result.output
    assert "every session of the account has ended" in result.output
    assert other.get("/patients").status_code == 302
    assert app.test_client().get(path).status_code == 404  # open links are void too
    assert login(app.test_client(), clinician.email, NEW).status_code == 302
    [event] = _events(app, "auth.password_set")
    assert (event.clinic_id, event.record_id, event.actor) == (
        clinician.clinic_id,
        clinician.id,
        "system",
    )
    monkeypatch.setenv("FLOORPLAN_NEW_PASSWORD", "short")
    result = runner.invoke(args=["set-password", "--email", clinician.email])
    assert result.exit_code != 0 and "at least 12" in result.output
    result = runner.invoke(args=["set-password", "--email", "nobody@nowhere.test"])
    assert result.exit_code != 0 and "No account has the email" in result.output


def test_set_password_prompts(app, runner, clinician, monkeypatch):
    monkeypatch.delenv("FLOORPLAN_NEW_PASSWORD", raising=False)
    result = runner.invoke(
        args=["set-password", "--email", clinician.email], input=f"{NEW}\n{NEW}\n"
    )
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), clinician.email, NEW).status_code == 302


def test_changing_the_password_is_under_the_sign_in_limits(app, signed_in, clinician):
    limit = app.config["LOGIN_LIMIT_PER_ACCOUNT"]
    wrong = {"current": "not my password at all", "password": NEW, "confirm": NEW}
    for _ in range(limit):
        response = signed_in.post("/account/password", data=wrong)
        assert response.status_code == 400
    response = signed_in.post("/account/password", data={**wrong, "current": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert login(app.test_client(), clinician.email).status_code == 429  # one limit for both
    failed = _events(app, "auth.password_change_failed")
    assert len(failed) == limit
    assert {(e.clinic_id, e.user_id) for e in failed} == {(clinician.clinic_id, clinician.id)}
    with app.app_context():
        assert db.session.get(User, clinician.id).password_hash.startswith("scrypt:")
    assert login(app.test_client(), clinician.email, NEW).status_code != 302


def test_a_right_current_password_is_not_counted(app, signed_in, clinician):
    for n in range(app.config["LOGIN_LIMIT_PER_ACCOUNT"] + 2):
        new = f"passphrase number {n} here"
        old = PASSWORD if n == 0 else f"passphrase number {n - 1} here"
        data = {"current": old, "password": new, "confirm": new}
        assert signed_in.post("/account/password", data=data).status_code == 302


def test_sign_in_events_are_kept_with_the_clinic(app, admin_client, clinician, other_clinic):
    client = app.test_client()
    login(client, clinician.email, "wrong password here")
    login(client, "nobody@nowhere.test", "wrong password here")
    with app.app_context():
        events = {
            e.actor: e
            for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
            )
        }
    assert events[clinician.email].clinic_id == clinician.clinic_id
    assert events[clinician.email].user_id is None  # whoever typed it is not known to be them
    assert events["nobody@nowhere.test"].clinic_id is None
    page = admin_client.get("/admin/audit?action=auth.").get_data(as_text=True)
    assert "auth.login_failed" in page and clinician.email in page
    assert "nobody@nowhere.test" not in page
    for _ in range(app.config["LOGIN_LIMIT_PER_ACCOUNT"]):
        login(client, clinician.email, "wrong password here")
    [throttled] = _events(app, "auth.login_throttled")
    assert throttled.clinic_id == clinician.clinic_id
    assert "auth.login_throttled" in admin_client.get("/admin/audit").get_data(as_text=True)
