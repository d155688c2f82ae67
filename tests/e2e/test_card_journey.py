"""The whole loop on two phones: sign up, show the card, scan it at the counter, credit, see the points."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.support import collect_errors, decode_qr, sign_in, write_qr_y4m
from tests.factories import PASSWORD
from webapp.extensions import db

pytestmark = pytest.mark.e2e

CARD_URL = re.compile(r"^(?P<base>https?://[^/]+)/c/(?P<number>\d{12})\.[A-Z2-7]{16}$")


def test_new_shopper_card_is_scanned_and_credited(live, make, page, camera_phone, tmp_path):
    shop = make.shop(name="Boulangerie des Pentes")
    merchant = make.staff(shop=shop)
    merchant_email = merchant.email
    db.session.rollback()  # end the read transaction: SQLite would keep the live server waiting

    # The shopper signs up on their phone and lands on their card.
    page.goto("/auth/signup")
    page.get_by_label("Prénom").fill("Léa")
    page.get_by_label("Adresse e-mail").fill("lea@example.org")
    page.get_by_label("Mot de passe (12 caractères au moins)").fill("un long mot de passe sûr 42")
    page.get_by_label("Code postal").fill("69001")
    page.get_by_label("J'accepte le règlement du programme de fidélité.").check()
    page.get_by_role("button", name="Créer ma carte").click()
    expect(page).to_have_url(f"{live.url}/card")
    expect(page.locator("[data-testid=points]")).to_contain_text("0")

    # The QR on screen decodes to the card's URL on this server, with the printed number.
    texts = decode_qr(page.locator("figure.qr").screenshot())
    assert len(texts) == 1, texts
    card_url = CARD_URL.match(texts[0])
    assert card_url, texts[0]
    assert card_url["base"] == live.url
    assert page.locator(".card-number").inner_text().replace(" ", "") == card_url["number"]

    # The merchant's phone films that QR (a second Chromium whose fake camera plays it).
    counter = camera_phone(write_qr_y4m(texts[0], tmp_path / "card.y4m"))
    errors = collect_errors(counter)
    sign_in(counter, merchant_email, PASSWORD)
    expect(counter).to_have_url(f"{live.url}/counter/")
    counter.get_by_role("button", name="Scanner la carte").click()

    # The page reads the card through the camera and opens the credit screen.
    expect(counter).to_have_url(re.compile(rf"/c/{card_url['number']}\.[A-Z2-7]{{16}}$"), timeout=20_000)
    expect(counter.get_by_role("heading", level=1)).to_have_text("Léa")
    counter.get_by_label("Montant de l'achat (€)").fill("23,50")
    counter.get_by_role("button", name="Créditer").click()
    expect(counter.get_by_role("heading", name="Passage crédité")).to_be_visible()
    expect(counter.locator(".success .big")).to_have_text("+23 points")
    assert errors == []

    # Back on the shopper's phone: the points and the visit.
    page.reload()
    expect(page.locator("[data-testid=points]")).to_have_text("23 points")
    visit = page.locator(".visits li")
    expect(visit).to_have_count(1)
    expect(visit.locator(".shop")).to_have_text("Boulangerie des Pentes")
    expect(visit.locator(".pts")).to_contain_text("+23")


@pytest.fixture
def merchant_email(make) -> str:
    email = make.staff(shop=make.shop()).email
    db.session.rollback()
    return email


def test_a_qr_code_that_is_not_a_card_is_refused(live, merchant_email, camera_phone, tmp_path):
    counter = camera_phone(write_qr_y4m("https://example.org/promo/c/123", tmp_path / "other.y4m"))
    errors = collect_errors(counter)
    sign_in(counter, merchant_email, PASSWORD)
    counter.get_by_role("button", name="Scanner la carte").click()
    expect(counter.locator("[data-scan-status]")).to_have_text("Ce QR code n'est pas une carte du quartier.")
    expect(counter).to_have_url(f"{live.url}/counter/")
    counter.get_by_role("button", name="Arrêter").click()
    expect(counter.locator("[data-viewfinder]")).to_be_hidden()
    expect(counter.get_by_role("button", name="Scanner la carte")).to_be_focused()
    assert errors == []


def test_without_a_camera_the_number_is_typed(live, make, page):
    merchant = make.staff(shop=make.shop())
    card = make.card()
    merchant_email, number = merchant.email, card.number
    db.session.rollback()
    sign_in(page, merchant_email, PASSWORD)  # this Chromium has no camera at all
    page.get_by_role("button", name="Scanner la carte").click()
    expect(page.locator("[data-scan-status]")).to_have_text("Caméra indisponible : saisissez le numéro de la carte.")
    field = page.get_by_label("Numéro de carte (12 chiffres)")
    expect(field).to_be_focused()
    field.fill(f"{number[:4]} {number[4:8]} {number[8:]}")
    page.get_by_role("button", name="Valider le numéro").click()
    expect(page.get_by_label("Montant de l'achat (€)")).to_be_visible()


def test_only_card_urls_are_followed(live, page):
    page.goto("/auth/login")  # any page of the site: the module is imported from there
    codes = page.evaluate(
        """async texts => {
            const {cardCode} = await import('/static/js/counter.js');
            return texts.map(cardCode);
        }""",
        [
            "https://carte.example.org/c/123456789012.ABCDEFGHIJKLMN23",
            "http://127.0.0.1:5000/quartier/c/123456789012.abcdefghijklmn23",
            "https://example.org/c/12345678901.ABCDEFGHIJKLMN23",
            "https://example.org/c/123456789012.ABCDEFGHIJKLMN18",
            "https://example.org/x/123456789012.ABCDEFGHIJKLMN23",
            "javascript:alert(1)//c/123456789012.ABCDEFGHIJKLMN23",
            "123456789012.ABCDEFGHIJKLMN23",
        ],
    )
    assert codes == ["123456789012.ABCDEFGHIJKLMN23", "123456789012.ABCDEFGHIJKLMN23", None, None, None, None, None]
