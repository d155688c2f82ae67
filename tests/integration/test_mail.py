"""Mail through a real SMTP server (aiosmtpd) and the offline outbox."""

import email
import email.policy
import re
import socket

import pytest
from aiosmtpd.controller import Controller

from webapp.mail import send_mail


class Capture:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.original_content, policy=email.policy.default),
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    handler = Capture()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


@pytest.fixture
def app_config(smtp):
    controller, _ = smtp
    return {"SMTP_URL": f"smtp://{controller.hostname}:{controller.port}"}


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
