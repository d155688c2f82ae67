"""Outgoing mail, always through the branded layout (templates/email/layout.html).

Every message, transactional or marketing, carries the union's name (as the sender's name,
in the subject and in the layout) and its logo, attached inline (`cid:`) so that it shows
even where remote images are blocked; the HTML has its CSS inlined and a plain-text twin.

With SMTP_URL (`smtp://host:port`, `smtp+starttls://user:pass@host:587`,
`smtps://user:pass@host:465`) mail goes to that server; without it, each
message is written as an `.eml` file to the outbox folder so the demo works offline.
"""

import email.policy
import logging
import smtplib
import ssl
import uuid
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import css_inline
from flask import current_app, render_template

from webapp.web import current_union

log = logging.getLogger(__name__)
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)
# Long headers (the unsubscribe link) on one line, as RFC 5322 allows up to 998 characters.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def _sender_address() -> str:
    address = current_app.config["MAIL_FROM"]
    return address.split("<", 1)[1].rstrip(">") if "<" in address else address


def build_message(
    to: str, subject: str, template: str, *, headers: dict[str, str] | None = None, **context
) -> EmailMessage:
    union = current_union()
    sender = _sender_address()
    domain = sender.rsplit("@", 1)[-1]
    logo = union.logo_png if union.logo_version else None
    logo_cid = make_msgid(domain=domain)[1:-1] if logo else None
    context = {
        "union": union,
        "base_url": current_app.config["BASE_URL"],
        "logo_src": f"cid:{logo_cid}" if logo_cid else None,
        **context,
    }
    message = EmailMessage(policy=_POLICY)
    message["From"] = formataddr((union.name, sender))
    message["To"] = to
    message["Subject"] = f"{subject} · {union.name}"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(render_template(f"email/{template}.txt", **context))
    message.add_alternative(_inliner.inline(render_template(f"email/{template}.html", **context)), subtype="html")
    if logo:
        message.get_payload()[1].add_related(logo, maintype="image", subtype="png", cid=f"<{logo_cid}>")
    return message


class _Outbox:
    """Stands for an SMTP connection when no SMTP_URL is set: messages become .eml files."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send_message(self, message: EmailMessage) -> dict:
        (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
        return {}


@contextmanager
def connection():
    """One SMTP session (or the outbox) for as many messages as the caller sends through it."""
    url = current_app.config.get("SMTP_URL")
    if not url:
        yield _Outbox(Path(current_app.config["OUTBOX_DIR"]))
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
        yield client


def deliver(message: EmailMessage) -> None:
    with connection() as client:
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
