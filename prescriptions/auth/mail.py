"""Outgoing mail for self-service password reset, made and sent on a thread of its own.

The request that asks for a link does the same work whatever the address (count it, audit it,
start the job); looking the account up, making the link and the SMTP conversation happen in the
background, so neither the answer nor its timing tells whether the address has an account.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

MAIL_KEYS = (
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_SECURITY",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SENDER",
    "MAIL_TIMEOUT",
)


def mail_configured(config: Any) -> bool:
    """Whether self-service reset can send mail: a server, a sender and the public address."""
    return all(config.get(key) for key in ("MAIL_SERVER", "MAIL_SENDER", "PUBLIC_URL"))


def reset_message(sender: str, to: str, clinic: str, link: str, hours: int) -> EmailMessage:
    """The reset e-mail: plain text, the link and what to do if it was not you."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Choose a new FloorPlan password"
    message.set_content(
        f"Someone asked for a new password for your FloorPlan account at {clinic}.\n\n"
        f"To choose one, open this link within {hours} hours. It works once:\n\n{link}\n\n"
        "If it was not you, ignore this message: your password stays as it is. "
        "Tell your clinic's administrator if you get messages like this often.\n"
    )
    return message


def mail_settings(config: Any) -> dict[str, Any]:
    """The SMTP settings, copied out of the app's configuration."""
    return {key: config.get(key) for key in MAIL_KEYS}


def deliver(settings: dict[str, Any], message: EmailMessage) -> None:
    """Send one message through the configured SMTP server (blocking)."""
    host, port = settings["MAIL_SERVER"], int(settings["MAIL_PORT"])
    timeout = float(settings.get("MAIL_TIMEOUT") or 10)
    security = settings.get("MAIL_SECURITY", "starttls")
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    kwargs: dict[str, Any] = {"context": context} if security == "ssl" else {}
    with smtp_class(host, port, timeout=timeout, **kwargs) as smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if settings.get("MAIL_USERNAME"):
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


#: Jobs still running (tests wait for them; a worker does not).
_running: set[threading.Thread] = set()


def in_background(job: Callable[[], None], name: str = "reset-mail") -> threading.Thread:
    """Run a job on a daemon thread after the request has its answer."""

    def run() -> None:
        try:
            job()
        finally:
            _running.discard(thread)

    thread = threading.Thread(target=run, name=name, daemon=True)
    _running.add(thread)
    thread.start()
    return thread


def wait_for_background(timeout: float = 10.0) -> None:
    """Wait until background mail jobs are done (for tests and clean shutdowns)."""
    for thread in list(_running):
        thread.join(timeout)
