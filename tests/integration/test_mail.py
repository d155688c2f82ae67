"""Mail through a real SMTP server (aiosmtpd) and the offline outbox."""

import re

import pytest

from tests.smtp import free_port, smtp_server
from webapp.mail import send_mail


@pytest.fixture
def smtp():
    with smtp_server() as server:
        yield server


@pytest.fixture
def app_config(smtp):
    url, _ = smtp
    return {"SMTP_URL": url}


def test_signup_confirmation_goes_through_smtp(client, smtp, make):
    make.union(name="Vitrines SMTP")
    _, handler = smtp
    response = client.post(
        "/auth/signup",
        data={
            "first_name": "Yasmine",
            "email": "yasmine@example.org",
            "password": "quatre mots bien choisis",
            "postcode": "69004",
            "accept_rules": "y",
        },
    )
    assert response.status_code == 302
    assert len(handler.messages) == 1
    sender, recipients, message = handler.messages[0]
    assert recipients == ["yasmine@example.org"]
    assert "Vitrines SMTP" in message["From"] and message["Subject"].endswith("Vitrines SMTP")
    assert re.search(r"/auth/confirm/\S+", message.get_body(("plain",)).get_content())
    assert "Vitrines SMTP" in message.get_body(("html",)).get_content()


def test_smtp_failure_is_logged_not_raised(app, caplog):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    with app.test_request_context():
        assert send_mail("a@example.org", "Test", "confirm", first_name="A", link="http://x") is False
    assert "mail delivery failed" in caplog.text
