from flask import Blueprint

bp = Blueprint("api", __name__)

from webapp.api import routes  # noqa: E402,F401
