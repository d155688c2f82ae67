"""Quartier: the shared loyalty card and back office of a union of shops."""

import logging
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask, has_request_context, request
from flask_login import current_user

from webapp.config import check_production, load_config
from webapp.extensions import babel, csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the worker's mails: the union's language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get("lang")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config_overrides: dict | None = None) -> Flask:
    """The only composition root: configure, bind extensions, register blueprints."""
    load_dotenv()
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(load_config(app.instance_path))
    if config_overrides:
        app.config.update(config_overrides)
    check_production(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)

    from webapp import cli, errors, security, web

    security.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    cli.init_app(app)

    from webapp.api import bp as api_bp
    from webapp.auth import bp as auth_bp
    from webapp.backoffice import bp as backoffice_bp
    from webapp.contests import bp as contests_bp
    from webapp.counter import bp as counter_bp
    from webapp.shopper import bp as shopper_bp

    app.register_blueprint(shopper_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(counter_bp)
    app.register_blueprint(backoffice_bp, url_prefix="/admin")
    app.register_blueprint(contests_bp, url_prefix="/contests")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return app
