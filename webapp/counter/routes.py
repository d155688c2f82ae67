"""The merchant's counter: scan or type a card, enter the amount, credit, next customer."""

import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.auth.forms import EmptyForm
from webapp.counter import bp
from webapp.counter.forms import CardNumberForm, CreditForm
from webapp.domain import cards, points, visits
from webapp.domain.errors import DomainError, InvalidAmount
from webapp.domain.visits import CreditRules
from webapp.extensions import db, limiter
from webapp.messages import message_for
from webapp.models import Card, Customer, Visit
from webapp.web import current_union, now

SCAN_LIMIT = "60 per minute"


def _scan_key() -> str:
    if current_user.is_authenticated:
        return f"scan:account:{current_user.id}"
    return f"scan:ip:{request.remote_addr}"


def _confirm_page(card: Card, form: CreditForm | None = None, error: str | None = None, status=200):
    form = form or CreditForm(card=card.number, idempotency_key=str(uuid.uuid4()))
    customer = db.session.get(Customer, card.customer_id)
    return render_template(
        "counter/confirm.html",
        card=card,
        customer=customer,
        form=form,
        error=error,
        balance=points.balance(db.session, card.customer_id),
        last_here=visits.last_visit_at_shop(db.session, card.customer_id, current_user.shop_id),
    ), status


def _refused(error: DomainError, status: int = 400):
    return render_template("counter/refused.html", message=message_for(error)), status


@bp.get("/counter/")
def scan():
    return render_template("counter/scan.html", form=CardNumberForm())


@bp.get("/counter/card")
@limiter.limit(SCAN_LIMIT, key_func=_scan_key)
def lookup():
    form = CardNumberForm(request.args)
    if not form.validate():
        return render_template("counter/scan.html", form=form), 422
    try:
        card = cards.find_by_number(db.session, form.number.data)
    except DomainError as error:
        form.number.errors.append(message_for(error))
        return render_template("counter/scan.html", form=form), 404 if error.code != "invalid_card_code" else 422
    return _confirm_page(card)


@bp.get("/c/<code>")
@limiter.limit(SCAN_LIMIT, key_func=_scan_key)
def card_link(code: str):
    """What any camera app opens. Staff of a shop land on the credit screen."""
    if not (current_user.is_authenticated and current_user.role == "merchant"):
        return render_template("counter/card_link_public.html")
    try:
        card = cards.verify_code(db.session, current_app.config["CARD_SIGNING_KEY"], code)
    except DomainError as error:
        return _refused(error, 404 if error.code == "unknown_card" else 400)
    return _confirm_page(card)


@bp.post("/counter/credit")
def credit():
    form = CreditForm()
    try:
        card = cards.find_by_number(db.session, form.card.data or "")
    except DomainError as error:
        return _refused(error)
    if not form.validate():
        return _confirm_page(card, form, _("Le formulaire est incomplet. Scannez la carte à nouveau."), 422)
    union = current_union()
    try:
        amount = visits.parse_amount(form.amount.data)
        result = visits.credit_visit(
            db.session,
            card=card,
            shop_id=current_user.shop_id,
            amount_cents=amount,
            idempotency_key=form.idempotency_key.data,
            now=now(),
            rules=CreditRules(union.points_per_euro, union.cooldown_minutes),
            credited_by_id=current_user.id,
            source="counter",
        )
    except InvalidAmount as error:
        db.session.rollback()
        form.amount.errors.append(message_for(error))
        return _confirm_page(card, form, status=422)
    except DomainError as error:
        db.session.rollback()
        return _confirm_page(card, form, message_for(error), 409)
    db.session.commit()
    return redirect(url_for("counter.credited", visit_id=result.visit_id))


def _own_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.shop_id != current_user.shop_id:
        abort(404)
    return visit


@bp.get("/counter/visits/<int:visit_id>")
def credited(visit_id: int):
    visit = _own_visit(visit_id)
    customer = db.session.get(Customer, visit.customer_id)
    return render_template(
        "counter/credited.html",
        visit=visit,
        customer=customer,
        balance=points.balance(db.session, visit.customer_id),
        void_form=EmptyForm(),
    )


@bp.get("/counter/today")
def today():
    start, end = visits.local_day_bounds(now(), current_union().timezone)
    rows = visits.shop_visits_between(db.session, current_user.shop_id, start, end)
    valid = [visit for visit, _name, _number in rows if visit.voided_at is None]
    return render_template(
        "counter/today.html",
        rows=rows,
        void_form=EmptyForm(),
        total_cents=sum(visit.amount_cents for visit in valid),
        count=len(valid),
    )


@bp.post("/counter/visits/<int:visit_id>/void")
def void(visit_id: int):
    try:
        visits.void_visit(db.session, visit_id=visit_id, shop_id=current_user.shop_id, by_id=current_user.id, now=now())
    except DomainError as error:
        db.session.rollback()
        if error.code == "visit_not_found":
            abort(404)
        flash(message_for(error), "error")
        return redirect(url_for("counter.today"))
    db.session.commit()
    flash(_("Passage annulé et points retirés."), "success")
    return redirect(url_for("counter.today"))
