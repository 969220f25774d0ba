"""Push channels in their real wire formats: SMTP e-mail, WeCom / DingTalk / Feishu group bots, SMS.

- WeCom (企业微信) group robot: ``POST {"msgtype": "markdown", "markdown": {"content": …}}``; success is
  ``{"errcode": 0}``.
- DingTalk (钉钉) custom robot with 加签: ``&timestamp=<ms>&sign=<urlencoded base64(HMAC-SHA256(secret,
  "<ms>\\n<secret>"))>`` appended to the webhook URL; body ``{"msgtype": "markdown", "markdown": {"title",
  "text"}}``; success is ``{"errcode": 0}`` (DingTalk open platform, 自定义机器人安全设置 — 加签).
- Feishu (飞书) custom bot with 签名校验: body carries ``timestamp`` (seconds) and ``sign`` =
  base64(HMAC-SHA256(key="<ts>\\n<secret>", msg="")); ``msg_type: "post"``; success is ``{"code": 0}``.
- SMS through a gateway interface (:class:`SmsGateway`); the default backend only logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("qiantou.notifications")

#: What a push message for a restricted task says instead of its content.
RESTRICTED_TEXT = "您有一项待办事项"
HTTP_TIMEOUT_SECONDS = 10.0


class DeliveryError(Exception):
    """A channel refused or failed a message; ``str()`` says why (kept on the delivery)."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel sends: plain text plus an absolute link and an acknowledgement link."""

    subject: str
    body: str
    link: str
    ack_link: str
    restricted: bool
    message_id: str

    @property
    def push_subject(self) -> str:
        return RESTRICTED_TEXT if self.restricted else self.subject

    @property
    def push_body(self) -> str:
        return RESTRICTED_TEXT if self.restricted else self.body


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(key=secret, msg="<timestamp>\\n<secret>")), not yet URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's 签名校验: base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", digestmod=hashlib.sha256).digest()).decode()


def _links_markdown(out: Outgoing) -> str:
    parts = [f"[查看详情]({out.link})"] if out.link else []
    if out.ack_link:
        parts.append(f"[确认收到]({out.ack_link})")
    return "  ".join(parts)


def wecom_payload(out: Outgoing) -> dict[str, Any]:
    """WeCom group robot markdown message."""
    content = f"**{out.push_subject}**\n{out.push_body}\n{_links_markdown(out)}".strip()
    return {"msgtype": "markdown", "markdown": {"content": content[:4000]}}


def dingtalk_payload(out: Outgoing) -> dict[str, Any]:
    """DingTalk custom robot markdown message."""
    text = f"### {out.push_subject}\n\n{out.push_body}\n\n{_links_markdown(out)}".strip()
    return {"msgtype": "markdown", "markdown": {"title": out.push_subject, "text": text}}


def feishu_payload(out: Outgoing, secret: str = "", now: float | None = None) -> dict[str, Any]:
    """Feishu custom bot rich-text ("post") message, signed when the bot has a secret."""
    line: list[dict[str, str]] = [{"tag": "text", "text": out.push_body + " "}]
    if out.link:
        line.append({"tag": "a", "text": "查看详情", "href": out.link})
    if out.ack_link:
        line.append({"tag": "a", "text": " 确认收到", "href": out.ack_link})
    payload: dict[str, Any] = {
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": out.push_subject, "content": [line]}}},
    }
    if secret:
        ts = int(now if now is not None else time.time())
        payload["timestamp"] = str(ts)
        payload["sign"] = feishu_sign(secret, ts)
    return payload


def _post_json(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {urllib.parse.urlsplit(url).netloc}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {exc}") from exc
    try:
        answer = json.loads(raw.decode() or "{}")
    except ValueError as exc:
        raise DeliveryError(f"unreadable answer from {urllib.parse.urlsplit(url).netloc}") from exc
    return answer if isinstance(answer, dict) else {}


def send_wecom(url: str, out: Outgoing) -> None:
    """Post to a WeCom group robot; raises :class:`DeliveryError` unless errcode is 0."""
    answer = _post_json(url, wecom_payload(out))
    if answer.get("errcode", -1) != 0:
        raise DeliveryError(f"WeCom errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


def dingtalk_signed_url(url: str, secret: str, now: float | None = None) -> str:
    """The webhook URL with DingTalk's ``timestamp`` and ``sign`` parameters (when there is a secret)."""
    if not secret:
        return url
    ts = int((now if now is not None else time.time()) * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, ts))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def send_dingtalk(url: str, secret: str, out: Outgoing) -> None:
    """Post to a DingTalk robot, signed; raises :class:`DeliveryError` unless errcode is 0."""
    answer = _post_json(dingtalk_signed_url(url, secret), dingtalk_payload(out))
    if answer.get("errcode", -1) != 0:
        raise DeliveryError(f"DingTalk errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


def send_feishu(url: str, secret: str, out: Outgoing) -> None:
    """Post to a Feishu bot; raises :class:`DeliveryError` unless code (or StatusCode) is 0."""
    answer = _post_json(url, feishu_payload(out, secret))
    code = answer.get("code", answer.get("StatusCode", -1))
    if code != 0:
        raise DeliveryError(f"Feishu code {code}: {answer.get('msg', answer.get('StatusMessage', ''))}")


class SmsGateway(Protocol):
    """An SMS gateway: ``send(phone, text)`` raises :class:`DeliveryError` on failure."""

    def send(self, phone: str, text: str) -> None: ...


class LogSmsGateway:
    """The default SMS backend: writes the message to the ``qiantou.notifications.sms`` log."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, phone: str, text: str) -> None:
        """Log the message (and keep it in ``sent`` for inspection)."""
        logging.getLogger("qiantou.notifications.sms").info("SMS to %s: %s", phone, text)
        LogSmsGateway.sent.append((phone, text))


def sms_gateway() -> SmsGateway:
    """The configured gateway (``QIANTOU_SMS_BACKEND`` setting, a dotted path; the log backend by default)."""
    path = getattr(settings, "QIANTOU_SMS_BACKEND", "qiantou.notifications.channels.LogSmsGateway")
    gateway: SmsGateway = import_string(path)()
    return gateway


def sms_text(out: Outgoing) -> str:
    """SMS body: subject and link (restricted: the notice only and the link)."""
    return f"【牵头】{out.push_subject} {out.link}".strip()


def email_text(out: Outgoing) -> str:
    """Plain-text e-mail body with the links."""
    lines = [out.push_body, ""]
    if out.link:
        lines.append(f"查看详情：{out.link}")
    if out.ack_link:
        lines.append(f"确认收到：{out.ack_link}")
    return "\n".join(lines).strip() + "\n"
