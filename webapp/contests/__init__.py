"""Contests (jeux-concours): public pages and entering (`routes`), the organiser's pages (`manage`).

The organiser's pages form a nested blueprint mounted at `/contests/manage/`, open to organisers
and admins only; merchants and shoppers are refused.
"""

from flask import Blueprint

from webapp.security import require_roles

bp = Blueprint("contests", __name__)
manage_bp = Blueprint("manage", __name__)
manage_bp.before_request(require_roles("admin", "organiser"))

from webapp.contests import manage, routes  # noqa: E402,F401

bp.register_blueprint(manage_bp, url_prefix="/manage")
