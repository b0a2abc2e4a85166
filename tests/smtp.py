"""A real SMTP server on loopback for the tests (aiosmtpd): Django's SMTP backend
talks to it, and tests read what it received.

``smtp_server`` runs one server for the session; the ``mail`` fixture points
Django's e-mail settings at it and empties its mailbox for each test. Server
processes started by end-to-end tests reach it through ``environ()``.
"""

from __future__ import annotations

import email
import re
import socket
import threading
from email.message import Message

import pytest


class Mailbox:
    """What the server received: ``messages`` as parsed ``email.message.Message``."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        """The messages sent to ``address``, oldest first."""
        with self.lock:
            return [m for m in self.messages if address in m.get("To", "")]

    @staticmethod
    def body(message: Message) -> str:
        payload = message.get_payload(decode=True)
        return payload.decode(message.get_content_charset() or "utf-8")

    def link(self, address: str, path: str) -> str:
        """The last link whose path starts with ``path`` in the mails to ``address``."""
        links = [found for m in self.to(address)
                 for found in re.findall(r"https?://\S+", self.body(m))
                 if re.match(r"https?://[^/]+" + re.escape(path), found)]
        assert links, f"no {path} link in the mails to {address}"
        return links[-1]

    def environ(self) -> dict[str, str]:
        """Settings for a server process that should send its mail here."""
        return {"TRIBUNE_SMTP_HOST": "127.0.0.1", "TRIBUNE_SMTP_PORT": str(self.port),
                "TRIBUNE_SMTP_TLS": "off"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    mailbox.port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def mail(smtp_server, settings):
    """Django sends its mail to ``smtp_server`` over SMTP during this test."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp_server.clear()
    return smtp_server
