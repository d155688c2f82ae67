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
from email.header import Header
from email.message import Message
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import css_inline
from flask import current_app, render_template

from webapp.web import current_union

log = logging.getLogger(__name__)
# Long headers (the unsubscribe link) stay on one line, as RFC 5322 allows up to 998 characters.
_HEADERS_ON_ONE_LINE = email.policy.compat32.clone(max_line_length=998)
_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def _sender_address() -> str:
    address = current_app.config["MAIL_FROM"]
    return address.split("<", 1)[1].rstrip(">") if "<" in address else address


def build_message(to: str, subject: str, template: str, *, headers: dict[str, str] | None = None, **context) -> Message:
    """A branded message: text and HTML alternatives, the logo inline (multipart/related)."""
    union = current_union()
    sender = _sender_address()
    domain = sender.rsplit("@", 1)[-1]
    logo = _logo_part(union.logo_version, union.logo_png, domain) if union.logo_version else None
    context = {
        "union": union,
        "base_url": current_app.config["BASE_URL"],
        "logo_src": f"cid:{logo['Content-ID'][1:-1]}" if logo else None,
        **context,
    }
    # The email.mime classes (compat32): half the cost of EmailMessage for the same bytes,
    # which counts for a campaign of ten thousand.
    message = MIMEMultipart("alternative", policy=_HEADERS_ON_ONE_LINE)
    message["From"] = formataddr((union.name, sender), charset="utf-8")
    message["To"] = to
    message["Subject"] = Header(f"{subject} · {union.name}", "utf-8")
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.attach(MIMEText(render_template(f"email/{template}.txt", **context), "plain", "utf-8"))
    html = MIMEText(_inliner.inline(render_template(f"email/{template}.html", **context)), "html", "utf-8")
    if logo:
        related = MIMEMultipart("related")
        related.attach(html)
        related.attach(logo)
        html = related
    message.attach(html)
    return message


@lru_cache(maxsize=4)
def _logo_part(version: int, png: bytes, domain: str) -> MIMEImage:
    """The logo as an inline image part, encoded once per logo version and shared by every message."""
    part = MIMEImage(png, "png")
    part["Content-ID"] = make_msgid(idstring=f"logo{version}", domain=domain)
    part.add_header("Content-Disposition", "inline", filename="logo.png")
    return part


class _Outbox:
    """Stands for an SMTP connection when no SMTP_URL is set: messages become .eml files."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send_message(self, message: Message) -> dict:
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


def html_part(message: Message) -> str:
    """The HTML alternative of a message we built, as text (for previews)."""
    part = next(part for part in message.walk() if part.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def deliver(message: Message) -> None:
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
