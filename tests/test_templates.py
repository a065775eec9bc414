"""Templates carry no week counts, status literals or ad-hoc formats: one date and one percentage
filter, and the vocabulary from the domain."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import InputRequired

from prescriptions.domain.vocab import PlanStatus
from prescriptions.web import format_date, format_share

TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))

FORBIDDEN = {
    "a hard-coded week count": re.compile(r"range\(1,\s*5\)|week\s*[<>]=?\s*4\b"),
    "a status literal": re.compile("['\"](?:" + "|".join(s.value for s in PlanStatus) + ")['\"]"),
    "a date formatted in place": re.compile(r"\.strftime\(|\.isoformat\("),
    "a percentage computed in place": re.compile(r"\*\s*100\b"),
}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_templates_use_the_shared_vocabulary_and_filters(path):
    text = path.read_text(encoding="utf-8")
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, found


def test_one_date_filter_in_every_house_style():
    day = date(2026, 12, 7)
    assert format_date(day) == "Mon 07 Dec"
    assert format_date(day, "full") == "Mon 07 Dec 2026"
    assert format_date(day, "long") == "Monday 07 December 2026"
    assert format_date(day, "iso") == "2026-12-07"
    assert format_date(datetime(2026, 12, 7, 9, 5), "stamp") == "2026-12-07 09:05 UTC"
    assert format_date(None) == ""
    with pytest.raises(KeyError):
        format_date(day, "american")


def test_one_percentage_filter():
    assert format_share(0.5) == "50%"
    assert format_share(2 / 3) == "67%"
    assert format_share(0) == "0%"
    assert format_share(None) == "–"


def test_the_filters_are_what_templates_get(app):
    assert app.jinja_env.filters["date"] is format_date
    assert app.jinja_env.filters["pct"] is format_share
    assert list(app.jinja_env.globals["WEEKS"]) == [1, 2, 3, 4]


class _PersonForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired()])
    email = StringField("Email", description="The address they sign in with.")


def _render(app, source: str, invalid: bool = True, **context: object) -> str:
    """The source rendered with a person form: submitted without a name, or fresh."""
    with app.test_request_context("/", method="POST"):
        if invalid:
            form = _PersonForm(formdata=MultiDict({"email": "a@example.org"}), meta={"csrf": False})
            form.validate()
        else:
            form = _PersonForm(formdata=None, meta={"csrf": False})
        return app.jinja_env.from_string(source).render(form=form, **context)


def test_a_post_form_has_its_error_summary_its_fields_and_its_buttons(app):
    html = _render(
        app,
        '{% from "_forms.html" import field, post_form %}'
        "{% call post_form(form, 'Add', cancel='/people') %}{{ field(form.name) }}{% endcall %}",
    )
    summary, rest = html.split('<form method="post" novalidate>')
    assert 'role="alert"' in summary and "Please check the fields marked below." in summary
    assert 'aria-describedby="name-error"' in rest and '<p class="error" id="name-error">' in rest
    assert rest.index('id="name"') < rest.index('<div class="form-actions">')
    actions = rest.split('<div class="form-actions">')[1]
    assert '<button type="submit" class="button primary">Add</button>' in actions
    assert '<a href="/people">Cancel</a>' in actions and actions.rstrip().endswith("</form>")


def test_a_post_form_without_cancel_has_its_button_alone(app):
    html = _render(
        app,
        '{% from "_forms.html" import field, post_form %}'
        "{% call post_form(form, 'Check', action='/codes', primary=False, enctype='multipart/form-data') %}"
        "{{ field(form.email) }}{% endcall %}",
        invalid=False,
    )
    assert '<form method="post" action="/codes" novalidate enctype="multipart/form-data">' in html
    assert 'role="alert"' not in html and "form-actions" not in html and "Cancel" not in html
    assert '<button type="submit" class="button">Check</button>' in html


def test_a_field_grid_draws_each_field_whole_and_focuses_only_the_first(app):
    source = '{% from "_forms.html" import field_grid %}{{ field_grid(form.name, form.email, autofocus=focus) }}'
    html = _render(app, source, focus=True)
    assert html.count('<div class="grid-3">') == 1 and html.count('class="field') == 2
    assert 'for="name"' in html and 'for="email"' in html
    assert '<p class="hint" id="email-hint">The address they sign in with.</p>' in html
    assert 'aria-describedby="email-hint"' in html and 'aria-describedby="name-error"' in html
    assert html.count("autofocus") == 1 and re.search(r"<input[^>]*autofocus[^>]*id=\"name\"", html)
    assert "autofocus" not in _render(app, source, focus=False)


def test_fields_stack_each_field_whole_in_order_and_focus_only_the_first(app):
    source = (
        '{% from "_forms.html" import fields %}{{ fields(form.email, form.name, autofocus=f) }}'
    )
    html = _render(app, source, f=True)
    assert html.count('class="field') == 2 and "grid-3" not in html
    assert html.index('for="email"') < html.index('for="name"')
    assert '<p class="hint" id="email-hint">The address they sign in with.</p>' in html
    assert 'aria-describedby="name-error"' in html
    assert html.count("autofocus") == 1 and re.search(r"<input[^>]*autofocus[^>]*id=\"email", html)
    assert "autofocus" not in _render(app, source, f=False)


def test_the_set_up_page_puts_the_cursor_in_the_clinic_name(client):
    setup = client.get("/setup").get_data(as_text=True)
    assert setup.count("autofocus") == 1
    assert re.search(r"<input[^>]*autofocus[^>]*id=\"clinic_name\"", setup)


def test_the_sign_in_pages_are_headed_by_their_title_unless_they_give_their_own(client, make_user):
    setup = client.get("/setup").get_data(as_text=True)
    assert "<title>Set up your clinic · FloorPlan</title>" in setup
    assert '<section class="card narrow">\n  <h1>Welcome to FloorPlan</h1>' in setup
    make_user()
    login = client.get("/login").get_data(as_text=True)
    assert "<title>Sign in · FloorPlan</title>" in login
    assert '<section class="card narrow">\n  <h1>Sign in</h1>' in login
