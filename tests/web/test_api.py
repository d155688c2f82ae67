"""JSON API v1: authentication, crediting with idempotency keys, stable error codes."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from webapp.domain import cards
from webapp.domain import visits as rules
from webapp.extensions import db
from webapp.models import ApiKey, Visit

SIGNING_KEY = "test-card-signing-key-0123456789abcdef"


@pytest.fixture
def till(make):
    make.union()
    shop = make.shop()
    shopper = make.shopper(first_name="Bruno")
    return shop, make.api_key(shop), make.active_card(shopper)


def post_visit(client, secret, body, key=None, raw=None):
    headers = {"Authorization": f"Bearer {secret}"}
    if key is not False:
        headers["Idempotency-Key"] = key or str(uuid.uuid4())
    if raw is not None:
        return client.post("/api/v1/visits", data=raw, headers=headers, content_type="application/json")
    return client.post("/api/v1/visits", json=body, headers=headers)


def visits():
    return db.session.scalar(select(func.count(Visit.id)))


def error_code(response):
    assert response.is_json, response.data[:200]
    return response.get_json()["error"]["code"]


def test_credit_with_signed_code_then_replay(client, till):
    shop, secret, card = till
    key = str(uuid.uuid4())
    body = {"card": cards.card_code(SIGNING_KEY, card.number, card.version), "amount_cents": 4599}
    first = post_visit(client, secret, body, key)
    assert first.status_code == 201
    assert first.get_json()["visit"]["points"] == 45 and first.get_json()["replayed"] is False
    again = post_visit(client, secret, body, key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["visit"]["id"] == first.get_json()["visit"]["id"]
    assert visits() == 1


def test_credit_with_plain_number_and_full_url(client, till):
    _, secret, card = till
    assert post_visit(client, secret, {"card": card.number, "amount_cents": 100}).status_code == 201
    assert visits() == 1


@pytest.mark.parametrize(
    "body,raw,key,status,code",
    [
        (None, "not json", None, 400, "malformed_request"),
        ([1, 2], None, None, 400, "malformed_request"),
        ({"amount_cents": 100}, None, None, 400, "malformed_request"),
        ({"card": "CARD", "amount_cents": "12"}, None, None, 400, "invalid_amount"),
        ({"card": "CARD", "amount_cents": -1}, None, None, 400, "invalid_amount"),
        ({"card": "CARD", "amount_cents": 100}, None, False, 400, "invalid_idempotency_key"),
        ({"card": "CARD", "amount_cents": 100}, None, "short", 400, "invalid_idempotency_key"),
        ({"card": "123", "amount_cents": 100}, None, None, 400, "invalid_card_code"),
        ({"card": "TAMPERED", "amount_cents": 100}, None, None, 400, "invalid_card_code"),
        ({"card": "UNKNOWN", "amount_cents": 100}, None, None, 404, "unknown_card"),
    ],
)
def test_errors_have_stable_codes_and_credit_nothing(client, till, body, raw, key, status, code):
    _, secret, card = till
    if isinstance(body, dict) and "card" in body:
        good = cards.card_code(SIGNING_KEY, card.number, card.version)
        unknown = cards.random_number()
        body = {
            **body,
            "card": {
                "CARD": card.number,
                "TAMPERED": good[:-1] + ("A" if good[-1] != "A" else "B"),
                "UNKNOWN": unknown,
            }.get(body["card"], body["card"]),
        }
    response = post_visit(client, secret, body, key, raw)
    assert response.status_code == status
    assert error_code(response) == code
    assert visits() == 0


def test_revoked_card_is_404_card_revoked(client, till, now):
    _, secret, card = till
    cards.reissue_card(db.session, card.customer_id, now)
    db.session.commit()
    response = post_visit(client, secret, {"card": card.number, "amount_cents": 100})
    assert (response.status_code, error_code(response)) == (404, "card_revoked")


def test_cooldown_is_409_with_times(client, till):
    _, secret, card = till
    assert post_visit(client, secret, {"card": card.number, "amount_cents": 100}).status_code == 201
    response = post_visit(client, secret, {"card": card.number, "amount_cents": 100})
    assert (response.status_code, error_code(response)) == (409, "cooldown")
    assert {"credited_at", "retry_at"} <= set(response.get_json()["error"])


def test_same_key_with_other_payload_is_422(client, till):
    _, secret, card = till
    key = str(uuid.uuid4())
    post_visit(client, secret, {"card": card.number, "amount_cents": 100}, key)
    response = post_visit(client, secret, {"card": card.number, "amount_cents": 200}, key)
    assert (response.status_code, error_code(response)) == (422, "idempotency_key_reused")
    assert visits() == 1


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer qk_wrong", "Basic abc", "Bearer " + "x" * 300])
def test_missing_or_bad_key_is_401(client, till, header):
    _, _, card = till
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if header:
        headers["Authorization"] = header
    response = client.post("/api/v1/visits", json={"card": card.number, "amount_cents": 1}, headers=headers)
    assert (response.status_code, error_code(response)) == (401, "unauthorized")
    assert client.get(f"/api/v1/cards/{card.number}", headers=headers).status_code == 401


def test_revoked_key_and_inactive_shop_are_refused(client, till):
    shop, secret, card = till
    shop.active = False
    db.session.commit()
    inactive = post_visit(client, secret, {"card": card.number, "amount_cents": 1})
    assert (inactive.status_code, error_code(inactive)) == (403, "shop_inactive")
    shop.active = True
    key = db.session.scalar(select(ApiKey))
    key.revoked_at = key.created_at
    db.session.commit()
    assert post_visit(client, secret, {"card": card.number, "amount_cents": 1}).status_code == 401
    assert visits() == 0


def test_card_lookup_is_scoped_to_the_shop(client, till, make):
    shop, secret, card = till
    other = make.shop()
    rules.credit_visit(
        db.session,
        card=card,
        shop_id=other.id,
        amount_cents=1500,
        idempotency_key="a" * 20,
        now=datetime.now(UTC),
        rules=rules.CreditRules(),
    )
    db.session.commit()
    response = client.get(f"/api/v1/cards/{card.number}", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    data = response.get_json()["card"]
    assert data["first_name"] == "Bruno" and data["points"] == 15 and data["last_visit_here"] is None
    unknown = client.get(f"/api/v1/cards/{cards.random_number()}", headers={"Authorization": f"Bearer {secret}"})
    assert (unknown.status_code, error_code(unknown)) == (404, "unknown_card")


def test_openapi_document_describes_the_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/visits", "/cards/{number}"} <= set(document["paths"])
    responses = document["paths"]["/visits"]["post"]["responses"]
    assert {"200", "201", "400", "401", "404", "409", "422"} <= set(responses)


def test_api_errors_are_json_even_for_unknown_routes_and_methods(client):
    missing = client.get("/api/v1/nothing")
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    response = client.get("/api/v1/visits", headers={"Authorization": "Bearer qk_x"})
    assert response.is_json
