"""Pieces every page shares: branding in templates, brand stylesheet, logo, language."""

from datetime import UTC, datetime

from flask import Response, abort, current_app, g, has_request_context, make_response, redirect, request, url_for
from flask_babel import format_currency, get_locale
from flask_babel import lazy_gettext as _l

from webapp.domain.branding import get_union
from webapp.domain.cards import format_number
from webapp.extensions import db
from webapp.security import safe_next_url

CHANNEL_NAMES = {"email": _l("e-mail"), "sms": _l("SMS"), "post": _l("courrier")}


def current_union():
    if "union" not in g:
        g.union = get_union(db.session)
    return g.union


def external_url(endpoint: str, **values) -> str:
    """An absolute link on BASE_URL, also outside a request (the worker's mails)."""
    if has_request_context():
        return current_app.config["BASE_URL"] + url_for(endpoint, **values)
    with current_app.test_request_context():
        return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def now() -> datetime:
    """The clock views hand to domain functions (tests may freeze it through config)."""
    frozen = current_app.config.get("FROZEN_NOW")
    return frozen if frozen is not None else datetime.now(UTC)


def init_app(app) -> None:
    app.jinja_env.filters["card_number"] = format_number
    app.jinja_env.filters["euros"] = lambda cents: format_currency(cents / 100, "EUR")
    app.jinja_env.globals["channel_names"] = CHANNEL_NAMES

    @app.context_processor
    def inject_branding():
        return {"union": current_union(), "current_locale": str(get_locale())}

    @app.get("/brand.css")
    def brand_css():
        union = current_union()
        css = f":root{{--brand:{union.primary_color};--accent:{union.accent_color}}}\n"
        response = Response(css, mimetype="text/css")
        response.cache_control.public = True
        response.cache_control.max_age = 300
        return response

    @app.get("/logo.png")
    def logo():
        union = current_union()
        if not union.logo_png:
            abort(404)
        response = make_response(union.logo_png)
        response.mimetype = "image/png"
        response.cache_control.public = True
        response.cache_control.max_age = 86400
        return response

    @app.get("/lang/<code>")
    def set_language(code: str):
        if code not in app.config["LANGUAGES"]:
            abort(404)
        target = safe_next_url(request.args.get("next")) or url_for("shopper.home")
        response = redirect(target)
        response.set_cookie(
            "lang", code, max_age=365 * 86400, samesite="Lax", secure=app.config["SESSION_COOKIE_SECURE"], httponly=True
        )
        return response

    @app.get("/healthz")
    def health():
        return {"status": "ok"}
