"""Sign-up, sign-in, sign-out, sessions, confirmation and reset."""

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import outbox_messages
from tests.factories import PASSWORD
from webapp.domain import consent
from webapp.extensions import db
from webapp.models import Account, Card, Consent, Customer

GOOD = {
    "first_name": "Léa",
    "email": "Lea.Martin@Example.org",
    "password": "violette pluie marché canut",
    "postcode": "69004",
    "phone": "06 12 34 56 78",
    "consent_email": "y",
    "accept_rules": "y",
}


def signup(client, **changes):
    data = {**GOOD, **changes}
    return client.post("/auth/signup", data={k: v for k, v in data.items() if v is not None})


def test_signup_creates_person_account_card_and_consents(client, app):
    response = signup(client)
    assert response.status_code == 302 and response.location.endswith("/card")
    account = db.session.scalar(select(Account))
    assert account.email == "lea.martin@example.org" and account.role == "shopper"
    customer = db.session.get(Customer, account.customer_id)
    assert (customer.first_name, customer.postcode, customer.phone) == ("Léa", "69004", "+33612345678")
    assert db.session.scalar(select(func.count(Card.id)).where(Card.status == "active")) == 1
    assert consent.current_consents(db.session, customer.id) == {"email": True, "sms": False, "post": False}
    wording = db.session.scalar(select(Consent.wording).where(Consent.channel == "email"))
    assert "e-mail" in wording
    page = client.get("/card")
    assert page.status_code == 200 and b"<svg" in page.data


def test_signup_sends_a_branded_confirmation_that_confirms(client, app, make):
    make.union(name="Les Vitrines Test")
    signup(client)
    messages = outbox_messages(app)
    assert len(messages) == 1
    message = messages[0]
    assert message["To"] == "lea.martin@example.org"
    assert "Les Vitrines Test" in message["Subject"] and "Les Vitrines Test" in message["From"]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://localhost(/auth/confirm/\S+)", text).group(1)
    assert "Les Vitrines Test" in message.get_body(("html",)).get_content()
    assert client.get(link).status_code == 302
    assert db.session.scalar(select(Account.email_confirmed_at)) is not None
    assert client.get(link[:-3] + "xyz").status_code == 400


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("email", "not-an-email", "Adresse e-mail invalide"),
        ("password", "short", "12 caractères"),
        ("password", "password1234", "trop courant"),
        ("postcode", "6900", "cinq chiffres"),
        ("phone", "12", "téléphone invalide"),
        ("accept_rules", None, "accepter le règlement"),
        ("first_name", "", "Ce champ est requis"),
    ],
)
def test_bad_signup_rerenders_with_message_and_creates_nothing(client, field, value, message):
    response = signup(client, **{field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Account.id))) == 0
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_signup_with_a_taken_email_is_refused(client, make):
    make.shopper(email="lea.martin@example.org")
    response = signup(client)
    assert response.status_code == 422 and "existe déjà" in response.get_data(as_text=True)


def test_signup_reuses_a_known_prospect_instead_of_duplicating(client, make):
    prospect = make.customer(email="lea.martin@example.org", source="contest", first_name="Lea")
    signup(client)
    account = db.session.scalar(select(Account))
    assert account.customer_id == prospect.id
    assert db.session.scalar(select(func.count(Customer.id))) == 1


def test_login_lands_by_role(client, make, login):
    merchant = make.staff(role="merchant")
    assert login(merchant).location.endswith("/counter/")
    client.post("/auth/logout")
    admin = make.staff(role="admin")
    assert login(admin).location.endswith("/admin/")
    client.post("/auth/logout")
    assert login(make.shopper()).location.endswith("/card")


def test_wrong_password_is_refused_with_a_message(client, make):
    shopper = make.shopper()
    response = client.post("/auth/login", data={"email": shopper.email, "password": "wrong password!!"})
    assert response.status_code == 422
    assert "incorrect" in response.get_data(as_text=True)


def test_login_ignores_an_external_next(client, make):
    shopper = make.shopper()
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        response = client.post(f"/auth/login?next={target}", data={"email": shopper.email, "password": PASSWORD})
        assert response.location == "/card"
        client.post("/auth/logout")


def test_sign_out_ends_the_session_even_for_a_copied_cookie(app, make, login):
    shopper = make.shopper()
    client = app.test_client()
    login(shopper, on=client)
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/card").status_code == 200
    client.post("/auth/logout")
    assert thief.get("/card").status_code == 302
    assert client.get("/card").status_code == 302


def test_disabled_account_loses_its_sessions(app, make, login):
    shopper = make.shopper()
    client = app.test_client()
    login(shopper, on=client)
    shopper.active = False
    db.session.commit()
    assert client.get("/card").status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_sign_in_is_rate_limited(client, make):
    shopper = make.shopper()
    statuses = [
        client.post("/auth/login", data={"email": shopper.email, "password": "wrong password!!"}).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10:] == [429, 429]
    response = client.post("/auth/login", data={"email": shopper.email, "password": PASSWORD})
    assert response.status_code == 429 and "Trop de tentatives" in response.get_data(as_text=True)


def test_password_reset_by_email(client, app, make):
    shopper = make.shopper()
    response = client.post("/auth/reset", data={"email": shopper.email})
    assert response.status_code == 302
    client.post("/auth/reset", data={"email": "nobody@example.org"})
    messages = outbox_messages(app)
    assert len(messages) == 1
    link = re.search(r"http://localhost(/auth/reset/\S+)", messages[0].get_body(("plain",)).get_content()).group(1)
    new = "soleil orage fromage tramway"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 400  # used once
    assert client.post("/auth/login", data={"email": shopper.email, "password": new}).status_code == 302


def test_change_password_keeps_this_session_and_ends_others(app, make, login):
    shopper = make.shopper()
    mine, other = app.test_client(), app.test_client()
    login(shopper, on=mine)
    login(shopper, on=other)
    new = "soleil orage fromage tramway"
    response = mine.post("/auth/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 302
    assert mine.get("/card").status_code == 200
    assert other.get("/card").status_code == 302
