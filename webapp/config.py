"""Configuration read from the environment (and a `.env` file in development)."""

import os
from pathlib import Path

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 - refused in production
DEFAULT_CARD_KEY = "dev-card-key-change-me"


class ConfigurationError(RuntimeError):
    """Raised when the application refuses to start with the given settings."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _megabytes(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value if value.isdigit() and int(value) > 0 else default) * 1024 * 1024


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping from environment variables."""
    instance = Path(instance_path)
    production = os.environ.get("QUARTIER_ENV", "development") == "production"
    redis_url = os.environ.get("REDIS_URL")
    # Uploaded files waiting to be imported (preview, then import: two requests that another
    # app server may answer): a folder shared by the app servers in a scaled-out installation.
    media = Path(os.environ.get("MEDIA_DIR") or instance / "media")
    return {
        "PRODUCTION": production,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        "CARD_SIGNING_KEY": os.environ.get("CARD_SIGNING_KEY", DEFAULT_CARD_KEY),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'quartier.sqlite'}"),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Quartier <no-reply@quartier.localhost>"),
        "OUTBOX_DIR": str(instance / "outbox"),
        # Campaign e-mails: at most this many per second, by batches of CAMPAIGN_BATCH per worker task.
        "CAMPAIGN_RATE": float(os.environ.get("CAMPAIGN_RATE", "") or 20),
        "CAMPAIGN_BATCH": int(os.environ.get("CAMPAIGN_BATCH", "") or 100),
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "LANGUAGES": ["fr", "en"],
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "IMPORT_MAX_BYTES": _megabytes("IMPORT_MAX_MB", 16),
        "IMPORT_DIR": str(media / "imports"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def check_production(config: dict) -> None:
    """Refuse to run in production with development secrets or an insecure base URL."""
    if not config.get("PRODUCTION"):
        return
    problems = []
    if config["SECRET_KEY"] in {DEFAULT_SECRET, ""} or len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if config["CARD_SIGNING_KEY"] in {DEFAULT_CARD_KEY, ""} or len(config["CARD_SIGNING_KEY"]) < 32:
        problems.append("CARD_SIGNING_KEY must be set to a random value of at least 32 characters")
    if config["CARD_SIGNING_KEY"] == config["SECRET_KEY"]:
        problems.append("CARD_SIGNING_KEY must differ from SECRET_KEY")
    if not config["BASE_URL"].startswith("https://"):
        problems.append("BASE_URL must use https in production")
    if problems:
        raise ConfigurationError("; ".join(problems))
