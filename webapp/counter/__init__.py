from flask import Blueprint, request

from webapp.security import require_roles

bp = Blueprint("counter", __name__)

_staff_only = require_roles("merchant")


@bp.before_request
def guard():
    # The card link is public: anybody may open a QR with their camera app.
    if request.endpoint != "counter.card_link":
        return _staff_only()
    return None


from webapp.counter import routes  # noqa: E402,F401
