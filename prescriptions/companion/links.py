"""The phone link's full address, as the therapist's page shows it and the handout's QR code.

The public origin (FLOORPLAN_PUBLIC_URL) and then the phone page's own route path, with the
path prefix the site is served under (SCRIPT_NAME, a request's script root) included once, as
the password-reset links are made. The caller passes the script root in, so this works outside
a request (a query) as well as in one.
"""

from __future__ import annotations

from flask import current_app


def phone_url(public_url: str, script_root: str, token: str) -> str:
    """The full link to the phone page for this token (callers check a public address is set)."""
    adapter = current_app.url_map.bind("", script_name=script_root or "/")
    return public_url.rstrip("/") + adapter.build("companion.today", {"key": token})
