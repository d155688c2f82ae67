from flask import Blueprint

from webapp.security import require_roles

bp = Blueprint("backoffice", __name__)
bp.before_request(require_roles("admin", "organiser"))

from webapp.backoffice import routes  # noqa: E402,F401
