"""Where people land: the start page after sign-in, the people page after setup."""

from __future__ import annotations

from tests.factories import SETUP, login


def test_sign_in_lands_on_the_start_page(client, clinician):
    response = login(client, clinician.email)
    assert response.status_code == 302
    assert response.location in ("/", "http://localhost/")
    page = client.get(response.location).get_data(as_text=True)
    assert "Plans ending" in page or "drafts" in page.lower()


def test_setup_lands_where_the_admin_adds_people(client):
    response = client.post("/setup", data=SETUP)
    assert response.status_code == 302 and response.location.endswith("/admin/users")
    page = client.get(response.location).get_data(as_text=True)
    assert "is set up" in page and 'name="email"' in page
