"""Campaign pages: editing with errors in the user's language, the live count, previews, a test send,
sending through the worker (in-process here), letters and posters as PDF, unsubscribing without sign-in."""

import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.conftest import outbox_messages
from webapp import tasks
from webapp.domain import tokens
from webapp.domain.consent import current_consents, record_consents
from webapp.extensions import db
from webapp.models import Campaign, CampaignRecipient

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
FORM = {
    "name": "Printemps des boutiques",
    "channel": "email",
    "kind": "everyone",
    "subject": "{{ prenom }}, le printemps arrive",
    "body": "Bonjour {{ prenom }} !\n\nDécouvrez **{{ boutique_a_decouvrir }}**.",
    "cta_kind": "offer",
    "offer_code": "printemps-26",
    "holdout_percent": "0",
    "report_days": "30",
    "action": "save",
}


@pytest.fixture
def app_config():
    return {"FROZEN_NOW": NOW, "CAMPAIGN_RATE": 0}


@pytest.fixture
def immediate(monkeypatch):
    monkeypatch.setattr(tasks.huey, "immediate", True)


@pytest.fixture
def admin(make, login, union):
    account = make.staff(role="admin")
    login(account)
    return account


@pytest.fixture
def union(make):
    return make.union(name="Les Vitrines")


def people(make, count, consenting=True, **fields):
    made = []
    for _ in range(count):
        person = make.customer(**fields)
        record_consents(db.session, person.id, {"email": consenting}, method="form", wordings={"email": "w"}, now=NOW)
        made.append(person)
    db.session.commit()
    return made


def create(client, **overrides) -> int:
    response = client.post("/admin/campaigns/new", data={**FORM, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_new_campaign_counts_its_target_and_saves(client, admin, make):
    people(make, 3)
    people(make, 2, consenting=False)
    text = client.post("/admin/campaigns/new", data={**FORM, "action": "count"}).get_data(as_text=True)
    figures = dict(re.findall(r'data-field="(\w+)">(?:<strong>)?(\d+)', text))
    assert figures == {"targeted": "5", "without_consent": "2", "without_contact": "0", "reachable": "3"}
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0  # counting saves nothing
    campaign_id = create(client)
    campaign = db.session.get(Campaign, campaign_id)
    assert (campaign.name, campaign.status, campaign.offer_code) == ("Printemps des boutiques", "draft", "PRINTEMPS-26")
    detail = client.get(f"/admin/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Brouillon" in detail and "Envoyer maintenant" in detail


def test_the_live_count_answers_json_and_bad_criteria_a_clear_error(client, admin, make):
    people(make, 2, postcode="69001")
    people(make, 1, postcode="69004")
    assert client.get("/admin/campaigns/count?postcodes=69001&channel=email").get_json() == {
        "targeted": 2,
        "without_consent": 0,
        "without_contact": 0,
        "reachable": 2,
    }
    refused = client.get("/admin/campaigns/count?postcodes=690")
    assert refused.status_code == 422 and "cinq chiffres" in refused.get_json()["error"]


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"body": "Bonjour {{ nom }}"}, "Champ de fusion inconnu"),
        ({"cta_kind": "link", "cta_url": "javascript:alert(1)"}, "commençant par https://"),
        ({"postcodes": "lyon"}, "cinq chiffres"),
        ({"subject": ""}, "Ce champ est requis"),
        ({"holdout_percent": "90"}, "entre 0 et 50"),
    ],
)
def test_bad_input_rerenders_the_form_with_the_error_and_saves_nothing(client, admin, overrides, message):
    response = client.post("/admin/campaigns/new", data={**FORM, **overrides})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_preview_and_test_send_use_the_branded_layout(client, admin, make):
    campaign_id = create(client)
    preview = client.get(f"/admin/campaigns/{campaign_id}/preview")
    assert preview.status_code == 200 and "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    html = preview.get_data(as_text=True)
    assert "Les Vitrines" in html and "Camille" in html and "PRINTEMPS-26" in html
    assert client.post(f"/admin/campaigns/{campaign_id}/test").status_code == 302
    (message,) = outbox_messages(client.application)
    assert message["To"] == admin.email and message["Subject"].startswith("[TEST] Camille, le printemps arrive")
    assert db.session.scalar(select(func.count()).select_from(CampaignRecipient)) == 0  # a test sends nobody else


def test_sending_reaches_exactly_the_consenting_people_once(client, admin, make, immediate):
    yes = people(make, 4)
    people(make, 2, consenting=False)
    campaign_id = create(client)
    assert client.post(f"/admin/campaigns/{campaign_id}/send").status_code == 302
    messages = outbox_messages(client.application)
    assert sorted(m["To"] for m in messages) == sorted(p.email for p in yes)
    for message in messages:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert re.fullmatch(r"<http://localhost/unsubscribe/[\w.-]+>", message["List-Unsubscribe"])
        assert message.get_body(("plain",)) is not None and "Les Vitrines" in message["From"]
    again = client.post(f"/admin/campaigns/{campaign_id}/send")
    assert "ne peut plus changer" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(outbox_messages(client.application)) == 4
    assert db.session.get(Campaign, campaign_id).status == "sent"
    person_page = client.get(f"/admin/customers/{yes[0].id}").get_data(as_text=True)  # the 360° page
    assert "Courriers et e-mails reçus" in person_page and "Printemps des boutiques" in person_page


def test_a_campaign_is_scheduled_and_cancelled(client, admin, make):
    campaign_id = create(client)
    response = client.post(f"/admin/campaigns/{campaign_id}/schedule", data={"at": "2026-06-20T09:30"})
    assert response.status_code == 302
    campaign = db.session.get(Campaign, campaign_id)
    assert campaign.status == "scheduled" and campaign.scheduled_at == datetime(2026, 6, 20, 7, 30, tzinfo=UTC)
    assert client.get(f"/admin/campaigns/{campaign_id}/edit").status_code == 302  # no editing once scheduled
    client.post(f"/admin/campaigns/{campaign_id}/cancel")
    db.session.refresh(campaign)
    assert (campaign.status, campaign.scheduled_at) == ("draft", None)


def test_the_unsubscribe_link_needs_no_sign_in_and_removes_the_consent(client, app, make, union):
    (person,) = people(make, 1)
    token = tokens.make_unsubscribe_token(app.config["SECRET_KEY"], 0, person.id)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "Me désinscrire" in page.get_data(as_text=True)
    assert current_consents(db.session, person.id)["email"] is True  # opening the link changes nothing
    done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert done.status_code == 200 and "C'est fait" in done.get_data(as_text=True)
    assert current_consents(db.session, person.id)["email"] is False
    assert client.post(f"/unsubscribe/{token}x").status_code == 404
    assert client.get("/unsubscribe/not-a-token").status_code == 404


@pytest.mark.parametrize("role", ["merchant", "shopper"])
def test_only_the_office_reaches_campaigns(client, make, login, role):
    login(make.shopper() if role == "shopper" else make.staff(role="merchant"))
    for path in ("/admin/campaigns", "/admin/campaigns/new", "/admin/posters", "/admin/campaigns/count"):
        assert client.get(path).status_code == 403


def test_letters_pdf_has_a_page_per_recipient_with_the_address(client, admin, make):
    for name in ("Éloïse", "Marc"):
        make.customer(first_name=name, last_name="Lœuvre", street="12 rue d'Austerlitz", town="Lyon")
    make.customer(first_name="Sans adresse")
    campaign_id = create(client, channel="letter", subject="Nos nouvelles", cta_kind="none")
    client.post(f"/admin/campaigns/{campaign_id}/send")
    response = client.get(f"/admin/campaigns/{campaign_id}/letters.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    assert len(pages) == 2
    assert all("12 rue d'Austerlitz" in text and "69004 LYON" in text for text in pages)
    assert "Éloïse Lœuvre" in pages[0] and "Marc Lœuvre" in pages[1]


def test_posters_are_pdf_with_the_sign_up_qr(client, admin):
    response = client.post(
        "/admin/posters",
        data={"size": "A3", "title": "Votre carte", "text": "", "call_to_action": "Scannez", "destination": "signup"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    page = PdfReader(io.BytesIO(response.data)).pages[0]
    assert round(float(page.mediabox.width)) == 842 and "Votre carte" in page.extract_text()
    assert client.post("/admin/posters", data={"size": "A4", "title": ""}).status_code == 422


def test_a_letter_too_long_for_its_page_is_refused_with_a_message(client, admin, make):
    make.customer(first_name="Éloïse", street="12 rue d'Austerlitz", town="Lyon")
    long_body = "\n\n".join(["Un paragraphe bien trop long pour une seule page de lettre. " * 8] * 12)
    campaign_id = create(client, channel="letter", subject="Nos nouvelles", cta_kind="none", body=long_body)
    client.post(f"/admin/campaigns/{campaign_id}/send")
    response = client.get(f"/admin/campaigns/{campaign_id}/letters.pdf")
    assert response.status_code == 302
    assert "trop long pour tenir sur une page" in client.get(response.headers["Location"]).get_data(as_text=True)
