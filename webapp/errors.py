"""App-wide error handlers: JSON under /api/, a branded page elsewhere. No stack traces."""

import logging

from flask import jsonify, render_template, request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.extensions import db

log = logging.getLogger(__name__)

PAGE_MESSAGES = {
    400: (_l("Requête invalide"), _l("La demande n'a pas pu être comprise.")),
    403: (_l("Accès refusé"), _l("Cette page n'est pas accessible avec votre compte.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou plus.")),
    405: (_l("Action impossible"), _l("Cette action n'est pas possible ici.")),
    413: (_l("Fichier trop lourd"), _l("Le fichier envoyé dépasse la taille permise.")),
    429: (_l("Trop de tentatives"), _l("Merci de patienter un peu avant de réessayer.")),
    500: (_l("Erreur du serveur"), _l("Un problème est survenu de notre côté. Réessayez dans un instant.")),
}

API_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
    500: "server_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, **extra):
    response = jsonify({"error": {"code": code, "message": message, **extra}})
    response.status_code = status
    return response


def _render(status: int, message=None):
    title, default = PAGE_MESSAGES.get(status, PAGE_MESSAGES[500])
    return render_template("errors/error.html", title=title, message=message or default), status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if wants_json():
            return api_error(400, "csrf_failed", error.description)
        return _render(400, _l("Le formulaire a expiré ou n'est pas valide. Rechargez la page et réessayez."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if wants_json():
            response = api_error(status, API_CODES.get(status, "http_error"), error.name)
        elif status == 413 and request.max_content_length:
            size = format_decimal(round(request.max_content_length / 1024 / 1024, 1))
            message = _l("Le fichier envoyé dépasse la taille permise : %(size)s Mo au plus.", size=size)
            response = _render(status, message)
        else:
            response = _render(status)
        if status == 429 and getattr(error, "retry_after", None):
            response = app.make_response(response)
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return http_error(error)
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return api_error(500, "server_error", InternalServerError.description)
        return _render(500)
