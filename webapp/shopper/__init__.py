from flask import Blueprint

bp = Blueprint("shopper", __name__)

from webapp.shopper import routes  # noqa: E402,F401
