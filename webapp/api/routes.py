"""JSON API v1 for shops' tills: credit a visit, look up a card.

Authenticated per shop with `Authorization: Bearer <key>`. Errors are JSON
`{"error": {"code", "message"}}` with stable codes (see openapi.py).
"""

from flask import current_app, g, jsonify, request

from webapp.api import bp
from webapp.api.openapi import openapi_document
from webapp.domain import apikeys, branding, cards, points, visits
from webapp.domain.errors import DomainError
from webapp.domain.visits import CreditRules
from webapp.errors import api_error
from webapp.extensions import db, limiter
from webapp.models import Customer
from webapp.web import now

STATUS_OF = {
    "invalid_card_code": 400,
    "invalid_amount": 400,
    "invalid_idempotency_key": 400,
    "unknown_card": 404,
    "card_revoked": 404,
    "cooldown": 409,
    "idempotency_key_in_flight": 409,
    "idempotency_key_reused": 422,
}
PUBLIC_ENDPOINTS = {"api.openapi"}


def _api_key_id() -> str:
    return "api:" + request.headers.get("Authorization", "")[-16:]


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return api_error(401, "unauthorized", "Authorization: Bearer <api key> required")
    owner = apikeys.key_owner(db.session, secret.strip())
    if owner is None:
        return api_error(401, "unauthorized", "unknown or revoked API key")
    shop_id, shop_active = owner
    if not shop_active:
        return api_error(403, "shop_inactive", "this shop is no longer a member")
    g.api_shop_id = shop_id
    return None


def _domain_error(error: DomainError):
    extra = {}
    if error.code == "cooldown":
        extra = {"credited_at": error.credited_at.isoformat(), "retry_at": error.retry_at.isoformat()}
    return api_error(STATUS_OF.get(error.code, 400), error.code, str(error), **extra)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.config["BASE_URL"]))


@bp.post("/visits")
@limiter.limit(lambda: current_app.config.get("API_RATE_LIMIT", "600 per minute"), key_func=_api_key_id)
def create_visit():
    payload = request.get_json(silent=True)
    key = request.headers.get("Idempotency-Key", "")
    if not isinstance(payload, dict):
        return api_error(400, "malformed_request", "body must be a JSON object")
    card_text, amount = payload.get("card"), payload.get("amount_cents")
    if not isinstance(card_text, str) or not card_text:
        return api_error(400, "malformed_request", "'card' (signed code or 12-digit number) is required")
    if not key:
        return api_error(400, "invalid_idempotency_key", "Idempotency-Key header is required")
    points_per_euro, cooldown_minutes = branding.credit_rules(db.session)
    try:
        visits.check_amount(amount)
        visits.check_idempotency_key(key)
        card = cards.resolve(db.session, current_app.config["CARD_SIGNING_KEY"], card_text)
        result = visits.credit_visit(
            db.session,
            card=card,
            shop_id=g.api_shop_id,
            amount_cents=amount,
            idempotency_key=key,
            now=now(),
            rules=CreditRules(points_per_euro, cooldown_minutes),
            source="api",
        )
    except DomainError as error:
        db.session.rollback()
        return _domain_error(error)
    db.session.commit()
    body = {
        "visit": {
            "id": result.visit_id,
            "card": result.card_number,
            "shop_id": result.shop_id,
            "amount_cents": result.amount_cents,
            "points": result.points,
            "visited_at": result.visited_at.isoformat(),
        },
        "replayed": result.replayed,
    }
    response = jsonify(body)
    response.status_code = 200 if result.replayed else 201
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/cards/<number>")
def get_card(number: str):
    try:
        card = cards.find_by_number(db.session, number)
    except DomainError as error:
        return _domain_error(error)
    customer = db.session.get(Customer, card.customer_id)
    last = visits.last_visit_at_shop(db.session, card.customer_id, g.api_shop_id)
    return jsonify(
        {
            "card": {
                "number": card.number,
                "status": card.status,
                "first_name": customer.first_name if customer else None,
                "points": points.balance(db.session, card.customer_id),
                "last_visit_here": last.isoformat() if last else None,
            }
        }
    )
