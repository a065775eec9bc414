"""Gunicorn settings for FloorPlan: `gunicorn -c gunicorn.conf.py app:app` (see docs/deployment.md).

Command-line options override these (`--bind 127.0.0.1:8001`, `--workers 2`).
"""

from __future__ import annotations

import os
import re

from gunicorn.glogging import Logger


def _cores() -> int:
    """CPUs this process may use (the container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _workers() -> int:
    """WEB_CONCURRENCY when set, else 2 x cores + 1, at most 12."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return max(1, int(configured))
    # Each sync worker holds a database connection of its own; the cap keeps a big host from
    # taking much of PostgreSQL's 100 default connections, which every app server shares.
    return min(2 * _cores() + 1, 12)


# Every interface: the load balancer reaches the app server over the network. TLS ends at the
# balancer; keep this port closed to everything else.
bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = _workers()
worker_class = "sync"  # pages and handouts are short and CPU-bound; no long-polling here

# Workers import the app themselves: nothing (a database connection above all) is opened before
# the fork and shared by accident, and a restart of one worker reloads it cleanly.
preload_app = False

# A handout renders in tens of milliseconds and a batch of 100 in a few seconds; a request still
# running after 30 s is stuck, and its worker is replaced. The database timeouts end a request
# waiting on the database well before that, with the house 503 page (prescriptions/database.py,
# TIMEOUTS): SQLite's busy timeout 10 s; PostgreSQL's lock timeout 5 s, statement timeout 15 s,
# and a frozen server cut off after 18 s plus a 3 s reconnect. Raise them together, never past this.
timeout = 30
graceful_timeout = 30
keepalive = 5  # only used by async workers; the balancer's idle timeout should be longer
# Recycle workers now and then so slow growth (fonts, caches, fragmentation) never accumulates.
max_requests = 2000
max_requests_jitter = 200

# The heartbeat file is written every few seconds; on a disk-backed /tmp that can stall workers.
# gunicorn makes its own private files there (mkstemp), so a shared directory is safe.
_SHM = "/dev/shm"  # noqa: S108  # nosec B108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Logs to stdout/stderr for the service manager or container runtime to collect. The access log
# records the path without its query string: a patient search (?q=...) carries names.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'

# A patient's companion link carries its secret in the path (/p/<token or code>/...): the log
# keeps "/p/-/..." instead, so a log file never opens anyone's plan.
_PATIENT_KEY = re.compile(r"^/p/(?!sw\.js$)[^/?]+")


def redact_path(path: str | None) -> str:
    """The path as the access log may record it: a patient link's key left out."""
    return _PATIENT_KEY.sub("/p/-", path or "")


class RedactingLogger(Logger):
    """Gunicorn's logger, with patient keys left out of every path and request line."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201 - gunicorn's API
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact_path(atoms.get("U"))
        method, _, rest = str(atoms.get("r", "")).partition(" ")
        uri, _, protocol = rest.rpartition(" ")
        atoms["r"] = f"{method} {redact_path(uri.split('?', 1)[0])} {protocol}"
        return atoms


logger_class = RedactingLogger

# forwarded_allow_ips stays at gunicorn's default (127.0.0.1 and ::1, or FORWARDED_ALLOW_IPS):
# it only decides whose X-Forwarded-Proto gunicorn believes. Client addresses for the audit log
# and rate limits come from the app's FLOORPLAN_PROXY_FIX_X_FOR (Werkzeug ProxyFix), set to the
# number of proxies in front of the app. Never set forwarded_allow_ips to "*" while clients can
# reach this port directly: any of them could then claim their request came over https.
