"""The test mail catcher keeps what it is sent, except a mail a helper said to drop."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from portal_tests.mailcatcher import MailCatcher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    caught = MailCatcher(port=_free_port())
    caught.start()
    yield caught
    caught.stop()


def _send(catcher: MailCatcher, to: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "no-reply@portal.local"
    message["To"] = to
    message["Subject"] = "hello"
    message.set_content(body)
    with smtplib.SMTP(catcher.host, catcher.port) as smtp:
        smtp.send_message(message)


def test_a_mail_dropped_before_it_arrives_is_not_kept_and_the_rest_are(catcher):
    catcher.drop("a@example.com", "/verify-email?token=")
    _send(catcher, "a@example.com", "open /verify-email?token=abc")
    _send(catcher, "a@example.com", "your receipt")
    _send(catcher, "a@example.com", "open /verify-email?token=def")
    bodies = [m.body.strip() for m in catcher.messages(to="a@example.com")]
    # one rule drops one mail: a second link mailed later is kept
    assert bodies == ["your receipt", "open /verify-email?token=def"]


def test_a_mail_dropped_after_it_arrived_is_removed_and_no_rule_is_left(catcher):
    _send(catcher, "b@example.com", "open /verify-email?token=abc")
    catcher.drop("b@example.com", "/verify-email?token=")
    assert catcher.messages(to="b@example.com") == []
    _send(catcher, "b@example.com", "open /verify-email?token=def")
    assert len(catcher.messages(to="b@example.com")) == 1


def test_a_drop_for_one_address_keeps_another_addresses_mail(catcher):
    catcher.drop("c@example.com", "/verify-email?token=")
    _send(catcher, "d@example.com", "open /verify-email?token=abc")
    assert len(catcher.messages(to="d@example.com")) == 1
