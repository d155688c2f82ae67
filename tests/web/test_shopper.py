"""The shopper's card and account pages."""

import io

import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from webapp.domain import cards, consent
from webapp.domain.qrcodes import qr_png, qr_svg
from webapp.extensions import db
from webapp.models import Account, Card, Consent, Customer, PointsEntry, Visit

numbers = st.integers(min_value=10**10, max_value=10**11 - 1).map(lambda n: str(n) + cards.luhn_check_digit(str(n)))


def decode(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return [result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@settings(max_examples=60, deadline=None)
@given(
    number=numbers,
    version=st.integers(min_value=1, max_value=3),
    base=st.sampled_from(["https://quartier.example", "http://127.0.0.1:5000", "https://vitrines-croix-rousse.fr"]),
)
def test_rendered_qr_decodes_to_exactly_the_signed_url(number, version, base):
    url = f"{base}/c/{cards.card_code('any-signing-key-0123456789abcdef', number, version)}"
    assert decode(qr_png(url, box_size=4)) == [url]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=numbers)
def test_inline_svg_qr_decodes_too(number):
    import cairosvg  # noqa: F401 - optional, see below

    url = f"https://quartier.example/c/{cards.card_code('k' * 32, number, 1)}"
    png = cairosvg.svg2png(bytestring=qr_svg(url).encode(), background_color="white", output_width=400)
    assert decode(png) == [url]


def test_card_page_shows_qr_number_points_and_visits(client, make, login, now):
    make.union(name="Vitrines Test")
    shop = make.shop(name="Boulangerie Test")
    shopper = make.shopper(first_name="Chloé")
    card = make.active_card(shopper)
    make.visit(card, shop, 2350, now)
    login(shopper)
    page = client.get("/card").get_data(as_text=True)
    assert "<svg" in page and cards.format_number(card.number) in page
    assert "Boulangerie Test" in page and "23,50" in page and "<strong>23</strong>" in page
    assert "<script" not in page


def test_account_details_update_and_validation(client, make, login):
    shopper = make.shopper()
    login(shopper)
    response = client.post(
        "/account",
        data={
            "details-first_name": " Zoé  ",
            "details-last_name": "Roux",
            "details-postcode": "69001",
            "details-phone": "",
        },
    )
    assert response.status_code == 302
    customer = db.session.get(Customer, shopper.customer_id)
    assert (customer.first_name, customer.last_name, customer.postcode) == ("Zoé", "Roux", "69001")
    response = client.post("/account", data={"details-first_name": "Zoé", "details-postcode": "ABC"})
    assert response.status_code == 422 and "cinq chiffres" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Customer, shopper.customer_id).postcode == "69001"


def test_consent_changes_are_recorded_one_by_one(client, make, login):
    shopper = make.shopper()
    login(shopper)
    client.post("/account/consents", data={"consent-email": "y"})
    client.post("/account/consents", data={"consent-email": "y"})  # no change: nothing recorded
    client.post("/account/consents", data={"consent-sms": "y"})
    rows = db.session.execute(select(Consent.channel, Consent.granted).order_by(Consent.id)).all()
    assert rows == [("email", True), ("email", False), ("sms", True)]
    assert consent.current_consents(db.session, shopper.customer_id) == {"email": False, "sms": True, "post": False}
    assert "Historique" in client.get("/account").get_data(as_text=True)


def test_delete_account_erases_person_keeps_anonymous_visits(client, make, login, now):
    shop = make.shop()
    shopper = make.shopper(first_name="Inès", phone="+33612345678")
    card = make.active_card(shopper)
    make.visit(card, shop, 500, now)
    db.session.commit()
    customer_id = shopper.customer_id
    login(shopper)
    refused = client.post("/account/delete", data={"delete-password": "wrong password", "delete-confirm": "y"})
    assert refused.status_code == 422
    assert (
        client.post(
            "/account/delete", data={"delete-password": "correct horse battery staple", "delete-confirm": "y"}
        ).status_code
        == 302
    )
    customer = db.session.get(Customer, customer_id)
    assert customer.erased_at is not None
    assert (customer.first_name, customer.email, customer.phone) == (None, None, None)
    assert db.session.scalar(select(func.count(Account.id))) == 0
    assert db.session.scalar(select(func.count(Visit.id))) == 1
    assert db.session.scalar(select(Card.status)) == "revoked"
    assert client.get("/card").status_code == 302


@pytest.mark.parametrize("lang,expected", [("en", "Sign in"), ("fr", "Connexion")])
def test_language_switch(client, lang, expected):
    response = client.get(f"/lang/{lang}?next=/auth/login")
    assert response.status_code == 302 and response.location == "/auth/login"
    assert client.get(response.location).status_code == 200
    assert client.get("/lang/de").status_code == 404
    assert client.get("/lang/en?next=https://evil.example").location == "/"


def test_reissue_keeps_points_and_kills_the_old_code(client, make, login):
    shopper = make.shopper()
    old = make.active_card(shopper)
    db.session.add(PointsEntry(customer_id=shopper.customer_id, kind="earned", points=40))
    db.session.commit()
    login(shopper)
    assert client.post("/card/reissue").status_code == 302
    db.session.expire_all()
    new = make.active_card(shopper)
    assert new.number != old.number and db.session.get(Card, old.id).status == "revoked"
    page = client.get("/card").get_data(as_text=True)
    assert cards.format_number(new.number) in page and "<strong>40</strong>" in page
