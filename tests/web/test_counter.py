"""The merchant's counter: scan links, manual entry, crediting, voiding, shop isolation."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.domain import cards
from webapp.domain import visits as visit_rules
from webapp.extensions import db
from webapp.models import Visit

SIGNING_KEY = "test-card-signing-key-0123456789abcdef"


@pytest.fixture
def setup(make, login):
    make.union()
    shop = make.shop(name="Fromagerie Test")
    merchant = make.staff(shop=shop)
    shopper = make.shopper(first_name="Alice")
    card = make.active_card(shopper)
    login(merchant)
    return shop, merchant, shopper, card


def code_of(card):
    return cards.card_code(SIGNING_KEY, card.number, card.version)


def key_in(page) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def visit_count():
    return db.session.scalar(select(func.count(Visit.id)))


def test_scan_link_opens_confirmation_and_credit_goes_through(client, setup):
    shop, merchant, shopper, card = setup
    page = client.get(f"/c/{code_of(card)}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Alice" in text and "Créditer" in text and "jamais" in text
    response = client.post(
        "/counter/credit", data={"card": card.number, "idempotency_key": key_in(page), "amount": "23,50"}
    )
    assert response.status_code == 302
    done = client.get(response.location)
    assert "+23" in done.get_data(as_text=True) and "Client suivant" in done.get_data(as_text=True)
    visit = db.session.scalar(select(Visit))
    assert (visit.amount_cents, visit.points, visit.shop_id, visit.credited_by_id) == (2350, 23, shop.id, merchant.id)


def test_double_submit_of_one_confirmation_credits_once(client, setup):
    _, _, _, card = setup
    page = client.get(f"/c/{code_of(card)}")
    data = {"card": card.number, "idempotency_key": key_in(page), "amount": "10"}
    first = client.post("/counter/credit", data=data)
    second = client.post("/counter/credit", data=data)
    assert first.location == second.location
    assert visit_count() == 1


def test_second_scan_within_cooldown_is_refused_with_the_time(client, setup):
    _, _, _, card = setup
    for expected in (302, 409):
        page = client.get(f"/c/{code_of(card)}")
        response = client.post(
            "/counter/credit", data={"card": card.number, "idempotency_key": key_in(page), "amount": "5"}
        )
        assert response.status_code == expected
    assert "déjà été créditée ici" in response.get_data(as_text=True)
    assert visit_count() == 1


def test_manual_number_entry(client, setup):
    _, _, _, card = setup
    spaced = cards.format_number(card.number)
    page = client.get("/counter/card", query_string={"number": spaced})
    assert page.status_code == 200 and "Alice" in page.get_data(as_text=True)
    wrong = card.number[:-1] + str((int(card.number[-1]) + 1) % 10)
    page = client.get("/counter/card", query_string={"number": wrong})
    assert page.status_code == 422 and "pas valide" in page.get_data(as_text=True)


def _tampered(code: str) -> str:
    number, mac = code.split(".")
    return f"{number}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"


def _other_number(number: str) -> str:
    body = str(int(number[:-1]) + 1)
    return body + cards.luhn_check_digit(body)


@pytest.mark.parametrize(
    "mangle,status,message",
    [
        (_tampered, 400, "pas valide"),
        (lambda code: code[:-3], 400, "pas valide"),
        (lambda code: code.split(".")[0], 400, "pas valide"),
        (lambda code: code.replace(code[:12], _other_number(code[:12])), 400, "pas valide"),
    ],
)
def test_bad_codes_are_refused_and_credit_nothing(client, setup, mangle, status, message):
    _, _, _, card = setup
    response = client.get(f"/c/{mangle(code_of(card))}")
    assert response.status_code in (status, 404)
    assert message in response.get_data(as_text=True)
    assert "Créditer" not in response.get_data(as_text=True)
    assert visit_count() == 0


def test_unknown_but_correctly_signed_card_is_refused(client, setup):
    number = cards.random_number()
    response = client.get(f"/c/{cards.card_code(SIGNING_KEY, number, 1)}")
    assert response.status_code == 404 and "Aucune carte" in response.get_data(as_text=True)


def test_revoked_card_is_refused_everywhere(client, setup, now):
    _, _, shopper, card = setup
    old_code = code_of(card)
    page = client.get(f"/c/{old_code}")
    key = key_in(page)
    cards.reissue_card(db.session, shopper.customer_id, now)
    db.session.commit()
    response = client.get(f"/c/{old_code}")
    assert response.status_code == 400 and "remplacée" in response.get_data(as_text=True)
    response = client.post("/counter/credit", data={"card": card.number, "idempotency_key": key, "amount": "5"})
    assert response.status_code == 400 and "remplacée" in response.get_data(as_text=True)
    assert visit_count() == 0


@pytest.mark.parametrize("amount", ["", "abc", "-5", "12,345", "99999999"])
def test_bad_amount_rerenders_the_form(client, setup, amount):
    _, _, _, card = setup
    page = client.get(f"/c/{code_of(card)}")
    response = client.post(
        "/counter/credit", data={"card": card.number, "idempotency_key": key_in(page), "amount": amount}
    )
    assert response.status_code == 422
    assert "Créditer" in response.get_data(as_text=True)
    assert visit_count() == 0


def test_public_card_link_is_neutral(app, setup):
    _, _, _, card = setup
    anonymous = app.test_client()
    response = anonymous.get(f"/c/{code_of(card)}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Alice" not in text and "Créditer" not in text and "Points" not in text


def test_shopper_cannot_reach_the_counter(app, setup, login):
    _, _, shopper, card = setup
    other = app.test_client()
    login(shopper, on=other)
    assert other.get("/counter/").status_code == 403
    assert (
        other.post(
            "/counter/credit", data={"card": card.number, "idempotency_key": "x" * 20, "amount": "5"}
        ).status_code
        == 403
    )
    assert "Créditer" not in other.get(f"/c/{code_of(card)}").get_data(as_text=True)


def test_today_lists_only_own_shop_and_void_is_shop_scoped(app, client, setup, make, login, now):
    shop, merchant, shopper, card = setup
    other_shop = make.shop(name="Librairie Voisine")
    mine = visit_rules.credit_visit(
        db.session,
        card=card,
        shop_id=shop.id,
        amount_cents=1000,
        idempotency_key="k" * 20,
        now=_now_utc(),
        rules=visit_rules.CreditRules(),
    )
    theirs = visit_rules.credit_visit(
        db.session,
        card=card,
        shop_id=other_shop.id,
        amount_cents=7777,
        idempotency_key="j" * 20,
        now=_now_utc(),
        rules=visit_rules.CreditRules(),
    )
    db.session.commit()
    today = client.get("/counter/today").get_data(as_text=True)
    assert "10,00" in today and "77,77" not in today
    assert client.get(f"/counter/visits/{theirs.visit_id}").status_code == 404
    assert client.post(f"/counter/visits/{theirs.visit_id}/void").status_code == 404
    assert db.session.get(Visit, theirs.visit_id).voided_at is None
    assert client.post(f"/counter/visits/{mine.visit_id}/void").status_code == 302
    assert db.session.get(Visit, mine.visit_id).voided_at is not None
    assert "annulé" in client.get("/counter/today").get_data(as_text=True)


def _now_utc():
    return datetime.now(UTC) - timedelta(minutes=1)
