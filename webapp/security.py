"""Sign-in plumbing: user loader, role guards, safe redirects, security headers."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from webapp.extensions import db, login_manager
from webapp.models import Account

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "worker-src 'self' blob:; connect-src 'self'; media-src 'self' blob: mediastream:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)


@login_manager.user_loader
def load_account(session_id: str) -> Account | None:
    """Sessions carry `id:version`; a bumped version (sign-out, new password) ends them."""
    account_id, _, version = (session_id or "").partition(":")
    if not account_id.isdigit() or not version.isdigit():
        return None
    account = db.session.scalar(select(Account).where(Account.id == int(account_id)))
    if account is None or not account.active or account.session_version != int(version):
        return None
    return account


def safe_next_url(target: str | None) -> str | None:
    """Only a local path (no scheme, no host, no backslash tricks) is a safe `next`."""
    if not target or "\\" in target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(account: Account) -> str:
    if account.role == "merchant":
        return url_for("counter.scan")
    if account.role == "organiser":
        return url_for("contests.manage.index")
    if account.role == "admin":
        return url_for("backoffice.index")
    return url_for("shopper.card")


def require_roles(*roles: str):
    """A blueprint `before_request` guard: signed in, and one of `roles`."""

    def guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in roles:
            abort(403)
        return None

    return guard


def roles_required(*roles: str):
    """The same guard for a single view."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            refusal = require_roles(*roles)()
            return refusal if refusal is not None else view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=()")
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def flash_and_redirect(message, endpoint: str, category: str = "info", **values):
    flash(message, category)
    return redirect(url_for(endpoint, **values))
