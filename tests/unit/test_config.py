"""Production refuses development secrets."""

import pytest

from webapp import create_app
from webapp.config import ConfigurationError, load_config


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("QUARTIER_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CARD_SIGNING_KEY", raising=False)
    monkeypatch.setenv("BASE_URL", "https://quartier.example")


def test_production_refuses_default_secrets(production_env):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_http_base_url(production_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CARD_SIGNING_KEY", "c" * 40)
    monkeypatch.setenv("BASE_URL", "http://quartier.example")
    with pytest.raises(ConfigurationError, match="https"):
        create_app()


def test_production_starts_with_real_secrets(production_env, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("CARD_SIGNING_KEY", "c" * 40)
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_uploads_wait_in_the_media_folder_shared_by_the_app_servers(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDIA_DIR", raising=False)
    assert load_config(str(tmp_path))["IMPORT_DIR"] == str(tmp_path / "media" / "imports")
    monkeypatch.setenv("MEDIA_DIR", "/srv/quartier-media")
    assert load_config(str(tmp_path))["IMPORT_DIR"] == "/srv/quartier-media/imports"
