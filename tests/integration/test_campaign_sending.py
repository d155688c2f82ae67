"""Campaign e-mails through a real SMTP server (aiosmtpd): each message branded and unsubscribable,
refusals kept per recipient, and a worker that dies mid-batch neither resends nor forgets anyone."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from tests.smtp import smtp_server
from webapp import campaign_mail
from webapp.domain import campaigns, targeting
from webapp.domain.consent import record_consents
from webapp.extensions import db
from webapp.models import Campaign, CampaignRecipient

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def smtp():
    with smtp_server(refuse={"gone@example.org": "550 No such user", "full@example.org": "452 Mailbox full"}) as s:
        yield s


@pytest.fixture
def app_config(smtp):
    url, _capture = smtp
    return {"SMTP_URL": url, "FROZEN_NOW": NOW, "CAMPAIGN_RATE": 0, "CAMPAIGN_BATCH": 3}


def logo_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (122, 31, 61)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def started(app, make):
    """A campaign of six e-mails (one refused for good, one for now) started, not yet sent."""
    make.union(name="Les Vitrines", logo_png=logo_png(), logo_version=1)
    addresses = ["a@example.org", "b@example.org", "gone@example.org", "full@example.org", "e@example.org"]
    addresses.append("f@example.org")
    for address in addresses:
        person = make.customer(email=address, first_name=address[0].upper())
        record_consents(db.session, person.id, {"email": True}, method="form", wordings={"email": "w"}, now=NOW)
    campaign = campaigns.save_campaign(
        db.session,
        None,
        name="Été",
        channel="email",
        criteria=targeting.Criteria(),
        subject="Bonjour {{ prenom }}",
        body="Le marché d'été commence.",
        holdout_percent=0,
        by_id=None,
        now=NOW,
    )
    campaigns.start_sending(db.session, campaign, timezone="Europe/Paris", by_id=None, now=NOW)
    db.session.commit()
    return campaign.id


def statuses(campaign_id) -> dict[str, str]:
    db.session.rollback()
    rows = db.session.execute(
        select(CampaignRecipient.address, CampaignRecipient.status).where(CampaignRecipient.campaign_id == campaign_id)
    )
    return dict(rows.all())


def test_batches_send_each_message_once_branded_with_one_click_unsubscribe(app, smtp, started):
    _url, capture = smtp
    batches = []
    while not batches or not batches[-1].done:
        batches.append(campaign_mail.send_batch(started))
        assert len(batches) < 10
    # batches of 3: a, b, gone (550) | full (452), e, f | full again | full a third time: given up
    assert [(batch.sent, batch.failed) for batch in batches] == [(2, 1), (2, 1), (0, 1), (0, 1)]
    assert sorted(capture.recipients()) == ["a@example.org", "b@example.org", "e@example.org", "f@example.org"]
    for _sender, _to, message in capture.messages:
        assert "Les Vitrines" in message["From"] and message["Subject"].endswith("· Les Vitrines")
        assert message["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = message.get_body(("html",))
        assert "Les Vitrines" in html.get_content() and 'src="cid:' in html.get_content()
        logo = next(part for part in message.walk() if part.get_content_type() == "image/png")
        assert logo.get_content() == logo_png() and logo["Content-ID"].strip("<>") in html.get_content()
        assert "Ne plus recevoir ces e-mails" in message.get_body(("plain",)).get_content()
    final = statuses(started)
    assert final["gone@example.org"] == "failed"  # 550: for good, at once
    assert final["full@example.org"] == "failed"  # 452: tried MAX_ATTEMPTS times, then given up
    assert db.session.get(Campaign, started).status == "sent"


def test_a_worker_killed_mid_batch_leaves_a_lease_then_the_campaign_resumes(app, smtp, started):
    _url, capture = smtp
    # A first worker took the lease, sent to a@ and b@, and died before finishing its batch.
    assert campaigns.take_lease(db.session, started, NOW)
    for address in ("a@example.org", "b@example.org"):
        customer_id = db.session.scalar(
            select(CampaignRecipient.customer_id).where(CampaignRecipient.address == address)
        )
        campaigns.mark_sent(db.session, started, customer_id, NOW)
    db.session.commit()
    held = campaign_mail.send_batch(started)  # another worker meanwhile: the lease keeps it off
    assert held.held and held.sent == 0 and capture.messages == []
    assert campaigns.stalled_campaigns(db.session, NOW) == []
    later = NOW + campaigns.LEASE + timedelta(seconds=1)
    app.config["FROZEN_NOW"] = later
    assert campaigns.stalled_campaigns(db.session, later) == [started]
    while not campaign_mail.send_batch(started).done:
        pass
    assert sorted(capture.recipients()) == ["e@example.org", "f@example.org"]  # nobody twice, nobody forgotten
    assert statuses(started)["a@example.org"] == "sent"


def test_a_server_that_goes_away_stops_the_batch_for_a_retry(app, started):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    batch = campaign_mail.send_batch(started)
    assert batch.stopped and batch.sent == 0 and not batch.done
    assert set(statuses(started).values()) == {"queued"}
    db.session.execute(update(Campaign).values(lease_until=None))
    assert db.session.get(Campaign, started).lease_until is None
