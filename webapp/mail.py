"""Outgoing mail, always through the branded layout.

With SMTP_URL (`smtp://host:port`, `smtp+starttls://user:pass@host:587`,
`smtps://user:pass@host:465`) mail goes to that server; without it, each
message is written as an `.eml` file to the outbox folder so the demo works offline.
"""

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

from webapp.web import current_union

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, template: str, **context) -> EmailMessage:
    union = current_union()
    context = {"union": union, "base_url": current_app.config["BASE_URL"], **context}
    message = EmailMessage()
    sender_address = current_app.config["MAIL_FROM"]
    if "<" in sender_address:
        sender_address = sender_address.split("<", 1)[1].rstrip(">")
    message["From"] = formataddr((union.name, sender_address))
    message["To"] = to
    message["Subject"] = f"{subject} · {union.name}"
    message["Message-ID"] = make_msgid(domain=sender_address.rsplit("@", 1)[-1])
    message.set_content(render_template(f"email/{template}.txt", **context))
    message.add_alternative(render_template(f"email/{template}.html", **context), subtype="html")
    return message


def deliver(message: EmailMessage) -> None:
    url = current_app.config.get("SMTP_URL")
    if not url:
        outbox = Path(current_app.config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
        return
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, port or 465, timeout=10, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port or 25, timeout=10)
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def send_mail(to: str, subject: str, template: str, **context) -> bool:
    """Send one branded message; a delivery failure is logged, never shown as a crash."""
    message = build_message(to, subject, template, **context)
    try:
        deliver(message)
    except (OSError, smtplib.SMTPException):
        log.exception("mail delivery failed (template %s)", template)
        return False
    return True
