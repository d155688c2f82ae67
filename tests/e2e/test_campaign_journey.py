"""A campaign to an RFM segment, from the back office to the inbox, at phone size.

The worker is a real huey consumer process on a real queue (a SQLite file), sending through a
real SMTP server started by the test. It is stopped in the middle of the campaign and started
again: nobody gets the message twice and nobody is forgotten. Each message carries the union's
name and logo and the one-click unsubscribe headers; its link, opened in the browser, removes
the person's e-mail consent.
"""

import io
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.support import axe_violations, layout_width, sign_in
from tests.factories import PASSWORD
from tests.smtp import smtp_server
from webapp import tasks
from webapp.domain import rfm
from webapp.domain.consent import current_consents, record_consents
from webapp.extensions import db
from webapp.models import Campaign, CampaignRecipient, PointsEntry, Visit

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]
CONSENTING, WITHOUT_CONSENT, OUT_OF_SEGMENT = 20, 4, 3


def logo_png() -> bytes:
    image = Image.new("RGB", (120, 120), (122, 31, 61))
    image.paste((184, 134, 11), (20, 20, 100, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def smtp(live):
    with smtp_server() as (url, capture):
        yield url, capture


@pytest.fixture
def queue(live, tmp_path, monkeypatch):
    """The live app enqueues on a real SQLite queue, the one the worker process reads."""
    queue_file = tmp_path / "queue.sqlite"
    monkeypatch.setitem(tasks.huey.storage_kwargs, "filename", str(queue_file))
    monkeypatch.setattr(tasks.huey, "immediate", False)
    return queue_file


@pytest.fixture
def worker(live, smtp, queue, tmp_path):
    """`start()` runs `huey_consumer webapp.tasks.huey` on the test database; `stop()` stops it as an
    operator does (SIGINT: the batch in hand is finished, the queue keeps the rest)."""
    url, _capture = smtp
    env = {
        **os.environ,
        "DATABASE_URL": live.app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": live.app.config["SECRET_KEY"],
        "CARD_SIGNING_KEY": live.app.config["CARD_SIGNING_KEY"],
        "BASE_URL": live.url,
        "SMTP_URL": url,
        "HUEY_IMMEDIATE": "0",
        "HUEY_SQLITE_FILE": str(queue),
        "CAMPAIGN_RATE": "10",
        "CAMPAIGN_BATCH": "4",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    processes = []

    class Worker:
        def start(self):
            log = open(tmp_path / f"worker-{len(processes)}.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(
                [sys.executable, "-m", "huey.bin.huey_consumer", "webapp.tasks.huey", "-w", "1", "-k", "thread"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            processes.append((process, log))

        def stop(self):
            process, log = processes[-1]
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
            log.close()

        def log(self) -> str:
            return "\n".join((tmp_path / f"worker-{n}.log").read_text(errors="replace") for n in range(len(processes)))

    yield Worker()
    for process, log in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def town(make) -> list:
    """People in the segment "Perdus" (one identical visit each, long ago), with or without consent."""
    make.union(name="Les Vitrines du Plateau", logo_png=logo_png(), logo_version=1)
    shop = make.shop(name="Épicerie du Plateau")
    long_ago = datetime.now(UTC) - timedelta(days=200)
    people = []
    for index in range(CONSENTING + WITHOUT_CONSENT + OUT_OF_SEGMENT):
        person = make.customer(first_name=f"Client{index:02d}", email=f"client{index:02d}@example.org")
        consenting = index < CONSENTING or index >= CONSENTING + WITHOUT_CONSENT
        record_consents(
            db.session, person.id, {"email": consenting}, method="form", wordings={"email": "w"}, now=long_ago
        )
        if index < CONSENTING + WITHOUT_CONSENT:
            db.session.add(PointsEntry(customer_id=person.id, kind="earned", points=15, created_at=long_ago))
            db.session.add(
                Visit(
                    customer_id=person.id,
                    shop_id=shop.id,
                    amount_cents=1500,
                    points=15,
                    visited_at=long_ago,
                    idempotency_key=f"journey-{index}",
                )
            )
        people.append(person)
    db.session.commit()
    rfm.refresh(db.session, rfm.Scope(as_of=datetime.now(UTC).date()), now=datetime.now(UTC))
    db.session.commit()
    return people


def test_a_campaign_reaches_each_consenting_person_once_across_a_worker_restart(
    live, make, page, smtp, worker, browser
):
    _url, capture = smtp
    people = town(make)
    admin = make.staff(role="admin")

    sign_in(page, admin.email, PASSWORD)
    page.goto("/admin/campaigns/new")
    page.get_by_label("Nom de la campagne (interne)").fill("Ils nous manquent")
    page.locator("input[name=segments][value=lost]").check()
    page.get_by_label("Objet").fill("{{ prenom }}, on vous attend")
    page.get_by_label("Message (Markdown)").fill(
        "Bonjour {{ prenom }},\n\nVotre **{{ boutique_preferee }}** vous attend, et vos {{ points }} points aussi."
    )
    page.get_by_label("Groupe témoin, en pourcentage de la cible (ne reçoit rien)").fill("10")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="Ils nous manquent")).to_be_visible()
    expect(page.locator('[data-field="targeted"]')).to_have_text(str(CONSENTING + WITHOUT_CONSENT))
    expect(page.locator('[data-field="without_consent"]')).to_have_text(str(WITHOUT_CONSENT))
    expect(page.locator('[data-field="reachable"]')).to_have_text(str(CONSENTING))
    page.get_by_role("button", name="Envoyer maintenant").click()
    expect(page.get_by_text("Campagne lancée")).to_be_visible()

    db.session.rollback()  # the test's own read transaction predates the live server's writes
    campaign_id = db.session.scalar(select(Campaign.id))
    groups = dict(db.session.execute(select(CampaignRecipient.customer_id, CampaignRecipient.holdout)).all())
    assert set(groups) == {person.id for person in people[:CONSENTING]}  # consent applied, segment respected
    expected = sorted(person.email for person in people[:CONSENTING] if not groups[person.id])
    assert capture.messages == []  # nothing leaves before a worker runs

    # The worker sends part of the campaign, then is stopped.
    worker.start()
    wait_for(lambda: len(capture.messages) >= 6, 60, f"six messages; worker log:\n{worker.log()}")
    worker.stop()
    first_run = capture.recipients()
    assert len(first_run) < len(expected), "the campaign ended before the worker was stopped"
    db.session.rollback()
    sent_so_far = db.session.scalars(select(CampaignRecipient.address).where(CampaignRecipient.status == "sent"))
    assert sorted(sent_so_far) == sorted(first_run)  # every message accepted is recorded, and only those

    # Started again, it finishes: nobody twice, nobody forgotten, the holdout group left out.
    worker.start()

    def finished():
        db.session.rollback()
        return db.session.get(Campaign, campaign_id).status == "sent"

    wait_for(finished, 60, f"the end of the campaign; worker log:\n{worker.log()}")
    assert sorted(capture.recipients()) == expected
    for _sender, _to, message in capture.messages:
        assert "Les Vitrines du Plateau" in message["From"]
        html = message.get_body(("html",)).get_content()
        assert "Les Vitrines du Plateau" in html and "Épicerie du Plateau" in html
        logo = [part for part in message.walk() if part.get_content_type() == "image/png"]
        assert len(logo) == 1 and logo[0].get_content() == logo_png()
        assert f'src="cid:{logo[0]["Content-ID"].strip("<>")}"' in html
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith(f"<{live.url}/unsubscribe/")
        assert "15 points" in message.get_body(("plain",)).get_content()

    # The unsubscribe link, opened on the phone without signing in, removes the consent.
    _sender, (address,), message = capture.messages[0]
    link = re.search(r"Ne plus recevoir ces e-mails : (\S+)", message.get_body(("plain",)).get_content()).group(1)
    assert f"<{link}>" == message["List-Unsubscribe"]
    person = next(p for p in people if p.email == address)
    visitor = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="fr-FR").new_page()
    visitor.goto(link)
    assert current_consents(db.session, person.id)["email"] is True  # opening asks, it does not act
    assert axe_violations(visitor) == []
    width = layout_width(visitor)
    assert width["scrollWidth"] <= width["innerWidth"]
    visitor.get_by_role("button", name="Me désinscrire").click()
    expect(visitor.get_by_text("C'est fait")).to_be_visible()
    db.session.rollback()
    assert current_consents(db.session, person.id)["email"] is False
