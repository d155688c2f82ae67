"""Campaign e-mails: one message per recipient through the branded layout, sent by the worker.

Each message has a plain-text part, inlined CSS, the union's logo inline and a one-click
unsubscribe (RFC 8058: `List-Unsubscribe` with an https link and `List-Unsubscribe-Post:
List-Unsubscribe=One-Click`; the same link opens a page that needs no sign-in). There is no
tracking pixel and links are not rewritten.

`send_batch` sends up to CAMPAIGN_BATCH queued recipients over one SMTP connection, at most
CAMPAIGN_RATE messages a second, committing each recipient's status as soon as the server
accepted the message: a worker stopped between two messages resends nobody and forgets nobody.
"""

import smtplib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.header import Header
from email.message import Message

from flask import current_app

from webapp import mail
from webapp.domain import campaigns, tokens
from webapp.extensions import db, restart_as_writer
from webapp.models import Campaign, Contest
from webapp.web import current_union, external_url, now

_PLACEHOLDER = "UNSUBSCRIBE-LINK"


def unsubscribe_url(campaign_id: int, customer_id: int, pattern: str | None = None) -> str:
    """The person's unsubscribe link; `pattern` (unsubscribe_pattern()) saves building the URL each time."""
    token = tokens.make_unsubscribe_token(current_app.config["SECRET_KEY"], campaign_id, customer_id)
    return (pattern or unsubscribe_pattern()).replace(_PLACEHOLDER, token)


def unsubscribe_pattern() -> str:
    return external_url("shopper.unsubscribe", token=_PLACEHOLDER)


def contest_url(campaign: Campaign) -> str | None:
    contest = db.session.get(Contest, campaign.contest_id) if campaign.contest_id else None
    return external_url("contests.show", slug=contest.slug) if contest else None


def campaign_message(
    campaign: Campaign,
    customer_id: int,
    address: str,
    fields: dict,
    link_to_contest: str | None,
    unsubscribe: str | None = None,
) -> Message:
    rendered = campaigns.render_content(campaign.subject, campaign.body, fields)
    link = unsubscribe_url(campaign.id, customer_id, unsubscribe)
    return mail.build_message(
        address,
        rendered.subject,
        "campaign",
        headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        campaign=campaign,
        body_html=rendered.html,
        body_text=rendered.text,
        unsubscribe_url=link,
        contest_url=link_to_contest,
    )


def test_message(campaign: Campaign, address: str) -> Message:
    """The campaign as one recipient would get it, with an imaginary person's merge fields."""
    fields = campaigns.sample_fields(current_union().name)
    message = campaign_message(campaign, 0, address, fields, contest_url(campaign))
    message.replace_header("Subject", Header(f"[TEST] {message['Subject']}", "utf-8"))
    return message


@dataclass
class Batch:
    sent: int = 0
    failed: int = 0
    done: bool = False  # nothing is left to send
    held: bool = False  # nothing was sent: the campaign is not being sent, or another worker holds it
    stopped: str = ""  # why the batch stopped early (the server went away): retry later


def _permanent(error: smtplib.SMTPException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def send_batch(campaign_id: int) -> Batch:
    """Send the next queued recipients of a campaign being sent (run by the worker, in an app context)."""
    config = current_app.config
    batch = Batch()
    if not _record(campaigns.take_lease, campaign_id, now()):
        batch.held = True  # finished, not being sent, or another worker is on it
        return batch
    campaign = db.session.get(Campaign, campaign_id)
    recipients = campaigns.queued_batch(db.session, campaign_id, config["CAMPAIGN_BATCH"])
    fields = campaigns.merge_fields(db.session, [customer_id for customer_id, _ in recipients], current_union().name)
    link_to_contest = contest_url(campaign)
    unsubscribe = unsubscribe_pattern()
    union = current_union()
    if union.logo_version:
        union.logo_png  # noqa: B018 - load the deferred logo once for the whole batch
    # Each status below is its own short write transaction: keep the campaign and the union
    # out of the session so that those commits do not expire them (and reload them per message).
    for kept in (campaign, union):
        if kept in db.session:
            db.session.expunge(kept)
    db.session.commit()
    interval = 1.0 / config["CAMPAIGN_RATE"] if config["CAMPAIGN_RATE"] > 0 else 0.0
    try:
        # One message on the wire while the next one is rendered: the SMTP round trips overlap
        # the rendering, and each recipient is still recorded as soon as the server accepted it.
        with mail.connection() as client, ThreadPoolExecutor(max_workers=1) as wire:
            in_flight = None
            for customer_id, address in recipients:
                started = time.monotonic()
                fields_of = fields[customer_id]
                message = campaign_message(campaign, customer_id, address, fields_of, link_to_contest, unsubscribe)
                if in_flight is not None:
                    _settle(campaign_id, *in_flight, batch)
                in_flight = (customer_id, wire.submit(client.send_message, message))
                pause = interval - (time.monotonic() - started)
                if pause > 0:
                    time.sleep(pause)
            if in_flight is not None:
                _settle(campaign_id, *in_flight, batch)
    except (OSError, smtplib.SMTPServerDisconnected) as error:
        batch.stopped = f"{type(error).__name__}: {error}"
    batch.done = not batch.stopped and _record(campaigns.finish_if_done, campaign_id, now())
    _record(campaigns.release_lease, campaign_id)
    return batch


def _settle(campaign_id: int, customer_id: int, sending: Future, batch: Batch) -> None:
    """Wait for one message's answer and record it; a lost connection stops the batch (raised)."""
    try:
        sending.result()
    except smtplib.SMTPServerDisconnected:
        raise
    except smtplib.SMTPException as error:
        _record(campaigns.mark_failed, campaign_id, customer_id, str(error), permanent=_permanent(error))
        batch.failed += 1
    else:
        _record(campaigns.mark_sent, campaign_id, customer_id, now())
        batch.sent += 1


def _record(write, *args, **kwargs):
    """Run one domain write in its own transaction, committed at once."""
    restart_as_writer(db.session)
    result = write(db.session, *args, **kwargs)
    db.session.commit()
    return result
