"""Errors reach people as branded pages (or JSON under /api), never as stack traces."""

import pytest
from flask import Blueprint


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


def test_404_is_a_branded_french_page(client, make):
    make.union(name="Vitrines 404")
    response = client.get("/nowhere")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Page introuvable" in text and "Vitrines 404" in text


def test_unexpected_error_shows_no_trace(app, client):
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret internals")

    @boom.get("/api/v1/boom")
    def explode_api():
        raise RuntimeError("secret internals")

    app.register_blueprint(boom)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Erreur du serveur" in response.get_data(as_text=True)
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and api.get_json()["error"]["code"] == "server_error"


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
