"""Full links people open from outside the site: an e-mail, a QR code, a link shown to copy.

The public origin (FLOORPLAN_PUBLIC_URL), then the route's own path with the path prefix the site
is served under (SCRIPT_NAME, a request's script root) included once. The caller passes the
script root in, so a link is made the same way in a request, a query or a background thread.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def public_link(public_url: str, script_root: str, endpoint: str, **values: Any) -> str:
    """PUBLIC_URL and the path of `endpoint` under the site's prefix (callers check that a public
    address is set)."""
    adapter = current_app.url_map.bind("", script_name=script_root or "/")
    return public_url.rstrip("/") + adapter.build(endpoint, values)
