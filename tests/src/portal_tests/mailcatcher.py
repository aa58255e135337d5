"""A local SMTP catcher (aiosmtpd): keeps every message it is sent and lists them on a tiny
page (`/`) and as JSON (`/messages`). `make dev` runs one; tests read delivered mail from it.

    uv run python -m portal_tests.mailcatcher --smtp-port 1025 --http-port 8025

`refuse_with` makes it answer every RCPT with that SMTP reply (e.g. "451 try later"),
to test temporary and permanent failures; `stop()`/`start()` take it down and up again.
"""

from __future__ import annotations

import argparse
import html
import json
import threading
import time
from dataclasses import asdict, dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class CaughtMail:
    sender: str
    to: list[str]
    subject: str
    body: str
    message_id: str
    delivery: str
    received_at: float
    list_unsubscribe: str = ""
    list_unsubscribe_post: str = ""


class _Handler:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.catcher.refuse_with:
            return self.catcher.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        parsed = message_from_bytes(data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        self.catcher.add(
            CaughtMail(
                sender=str(envelope.mail_from),
                to=list(envelope.rcpt_tos),
                subject=str(parsed["Subject"] or ""),
                body=body,
                message_id=str(parsed["Message-ID"] or ""),
                delivery=str(parsed["X-Portal-Delivery"] or ""),
                received_at=time.time(),
                list_unsubscribe=str(parsed["List-Unsubscribe"] or ""),
                list_unsubscribe_post=str(parsed["List-Unsubscribe-Post"] or ""),
            )
        )
        return "250 Message accepted"


class MailCatcher:
    def __init__(self, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.host = host
        self.port = port
        self.refuse_with: str | None = None
        self._messages: list[CaughtMail] = []
        self._drops: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def add(self, mail: CaughtMail) -> None:
        with self._lock:
            for rule in self._drops:
                if _matches(mail, *rule):
                    self._drops.remove(rule)
                    return
            self._messages.append(mail)

    def drop(self, to: str, containing: str) -> None:
        """The mail to `to` whose body contains `containing` is not kept: removed if it is
        here, else left out when it arrives (a helper that used its content another way)."""
        with self._lock:
            for mail in reversed(self._messages):
                if _matches(mail, to, containing):
                    self._messages.remove(mail)
                    return
            self._drops.append((to, containing))

    def messages(self, to: str | None = None) -> list[CaughtMail]:
        with self._lock:
            return [m for m in self._messages if to is None or to in m.to]

    def take(self, to: str, containing: str) -> CaughtMail | None:
        """Remove and return the newest mail to `to` whose body contains `containing` (a
        helper that consumed a mail, e.g. a verification link, leaves the rest as it was)."""
        with self._lock:
            for mail in reversed(self._messages):
                if _matches(mail, to, containing):
                    self._messages.remove(mail)
                    return mail
        return None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def serve_page(self, port: int) -> ThreadingHTTPServer:
        """The page and JSON listing, in a daemon thread; `.shutdown()` ends it."""
        server = ThreadingHTTPServer((self.host, port), _page_handler(self))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def _matches(mail: CaughtMail, to: str, containing: str) -> bool:
    return to in mail.to and containing in mail.body


def _page_handler(catcher: MailCatcher) -> type[BaseHTTPRequestHandler]:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mails = list(reversed(catcher.messages()))
            if self.path.startswith("/messages"):
                data = json.dumps([asdict(m) for m in mails], ensure_ascii=False).encode()
                kind = "application/json"
            else:
                rows = "".join(
                    f"<article><h2>{html.escape(m.subject)}</h2>"
                    f"<p>to {html.escape(', '.join(m.to))}</p>"
                    f"<pre>{html.escape(m.body)}</pre></article>"
                    for m in mails
                )
                data = (
                    "<!doctype html><meta charset=utf-8><title>Mail catcher</title>"
                    f"<h1>{len(mails)} messages</h1>{rows}"
                ).encode()
                kind = "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    catcher = MailCatcher(args.host, args.smtp_port)
    catcher.start()
    catcher.serve_page(args.http_port)
    print(
        f"mail catcher: smtp {args.host}:{args.smtp_port}, page http://{args.host}:{args.http_port}/"
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        catcher.stop()


if __name__ == "__main__":
    main()
