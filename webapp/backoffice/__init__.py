"""The back office. Admins and organisers by default; a view marked `merchant_allowed`
is also open to merchants, and must then limit itself to the merchant's own shop."""

from flask import Blueprint, current_app, request

from webapp.security import require_roles

bp = Blueprint("backoffice", __name__)

_office = require_roles("admin", "organiser")
_office_or_merchant = require_roles("admin", "organiser", "merchant")


def merchant_allowed(view):
    """Open a back-office view to merchants too (the view scopes itself to their shop)."""
    view.merchant_allowed = True
    return view


@bp.before_request
def guard():
    view = current_app.view_functions.get(request.endpoint)
    return _office_or_merchant() if getattr(view, "merchant_allowed", False) else _office()


from webapp.backoffice import campaigns, customers, dashboards, imports, routes  # noqa: E402,F401
