"""A real SMTP server for the tests (aiosmtpd, in its own thread) that keeps what it receives.

`refuse` maps a recipient address to an SMTP reply, e.g. {"gone@example.org": "550 No such user"},
to play a server that refuses some recipients for good (5xx) or for now (4xx).
"""

import email
import email.policy
import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller


class Capture:
    def __init__(self, refuse: dict[str, str] | None = None):
        self.messages = []  # (mail from, recipients, parsed message)
        self.refuse = refuse or {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [address for _sender, addresses, _message in self.messages for address in addresses]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(refuse: dict[str, str] | None = None):
    """(the SMTP URL to give the app, the capture)."""
    handler = Capture(refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://{controller.hostname}:{controller.port}", handler
    finally:
        controller.stop()
