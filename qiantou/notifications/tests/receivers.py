"""Local receivers for channel tests and benchmarks: a real SMTP server (aiosmtpd) and an HTTP server
that answers like the WeCom, DingTalk and Feishu group-bot webhooks (verifying DingTalk's and Feishu's
signatures with their documented algorithms)."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_mailers(port: int, host: str = "127.0.0.1") -> dict[str, Any]:
    """A ``MAILERS`` setting whose default mailer is Django's SMTP backend on ``host:port``, for tests
    that send through a real server (the test runner swaps in the memory backend otherwise)."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": host, "port": port},
        }
    }


@dataclass
class Mailbox:
    """What the SMTP server received, in order (raw bytes kept; parsed on first access)."""

    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0
    received_event: threading.Event = field(default_factory=threading.Event)
    _parsed: list[email.message.EmailMessage] = field(default_factory=list)

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        """The messages parsed with the standard library (cached)."""
        with self.lock:
            for content in self.raw[len(self._parsed) :]:
                self._parsed.append(email.message_from_bytes(content, policy=email.policy.default))  # type: ignore[arg-type]
            return list(self._parsed)

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]

    def __len__(self) -> int:
        with self.lock:
            return len(self.raw)


class _SmtpHandler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        with self.box.lock:
            self.box.raw.append(envelope.content)
        self.box.received_event.set()
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 in a thread; yields (mailbox, port)."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(_SmtpHandler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented check, written out independently of the sender's code."""
    string_to_sign = f"{timestamp}\n{secret}"
    code = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
    return base64.b64encode(code).decode()


def feishu_expected_sign(secret: str, timestamp: str) -> str:
    """Feishu's documented check."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, digestmod=hashlib.sha256).digest()).decode()


@dataclass
class Hooks:
    """What the webhook server received: (kind, payload, query) tuples; bot secrets by path."""

    received: list[tuple[str, dict[str, Any], dict[str, list[str]]]] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for k, p, _ in self.received if k == kind]


@contextmanager
def webhook_server() -> Iterator[tuple[Hooks, str]]:
    """An HTTP server answering ``/wecom``, ``/dingtalk`` and ``/feishu`` like the real bots; yields
    (hooks, base URL). DingTalk requests without a valid, fresh signature get errcode 310000."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parsed.query)
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length).decode("utf-8"))
            kind = parsed.path.strip("/").split("/")[0]
            answer: dict[str, Any]
            with hooks.lock:
                failing = hooks.fail_next > 0
                if failing:
                    hooks.fail_next -= 1
            if failing:
                self.send_response(502)
                self.end_headers()
                return
            if kind == "dingtalk":
                secret = hooks.secrets.get(parsed.path, "")
                ts = (query.get("timestamp") or [""])[0]
                sign = (query.get("sign") or [""])[0]  # parse_qs already URL-decoded it
                fresh = ts.isdigit() and abs(time.time() * 1000 - int(ts)) < 3600 * 1000
                ok = fresh and hmac.compare_digest(sign, dingtalk_expected_sign(secret, ts))
                answer = (
                    {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 310000, "errmsg": "sign not match"}
                )
            elif kind == "feishu":
                secret = hooks.secrets.get(parsed.path, "")
                ts = str(payload.get("timestamp", ""))
                ok = not secret or payload.get("sign") == feishu_expected_sign(secret, ts)
                answer = (
                    {"code": 0, "msg": "success", "data": {}}
                    if ok
                    else {"code": 19021, "msg": "sign match fail"}
                )
            elif kind == "wecom":
                answer = {"errcode": 0, "errmsg": "ok"}
            else:
                self.send_response(404)
                self.end_headers()
                return
            with hooks.lock:
                hooks.received.append((kind, payload, query))
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
