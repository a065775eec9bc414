"""Outgoing mail for self-service password reset, sent after the response on a thread of its own.

Sending in the background keeps the answer to "send me a link" as quick for an address with an
account as for one without: the SMTP conversation would otherwise tell them apart by timing.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from typing import Any

log = logging.getLogger(__name__)

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
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
        smtp.send_message(message)


def send_later(config: Any, message: EmailMessage) -> threading.Thread:
    """Send the message on a background thread; failures are logged, never shown."""
    settings = {key: config.get(key) for key in MAIL_KEYS}

    def run() -> None:
        try:
            deliver(settings, message)
        except (OSError, smtplib.SMTPException) as error:
            # No address in the log line: it would say which accounts exist.
            log.warning("A password reset e-mail could not be sent: %s", type(error).__name__)

    thread = threading.Thread(target=run, name="reset-mail", daemon=True)
    thread.start()
    return thread
