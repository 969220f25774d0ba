"""Channels in their real formats: a real SMTP server, and a local HTTP receiver answering like the
WeCom, DingTalk and Feishu bots (DingTalk's and Feishu's signatures verified as they document them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from qiantou.accounts.models import Role, User
from qiantou.notifications import channels
from qiantou.notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    GroupBot,
    InboxItem,
    Message,
)
from qiantou.notifications.services import deliveries_claim_due, deliveries_send, notify
from qiantou.notifications.tests.receivers import (
    Hooks,
    Mailbox,
    dingtalk_expected_sign,
    smtp_mailers,
    smtp_server,
    webhook_server,
)
from qiantou.units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings: Any) -> Iterator[Mailbox]:
    with smtp_server() as (box, port):
        settings.MAILERS = smtp_mailers(port)
        yield box


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, str]]:
    with webhook_server() as pair:
        yield pair


@pytest.fixture
def unit() -> Unit:
    return Unit.objects.create(code="CZJ", name="市财政局")


@pytest.fixture
def liaison(unit: Unit) -> User:
    return User.objects.create(
        username="li",
        role=Role.LIAISON,
        unit=unit,
        email="li@czj.gov.cn",
        display_name="李联络",
        phone="13800000000",
    )


def _bots(unit: Unit, base: str, hooks: Hooks, dingtalk_secret: str = "SECdemo0123456789") -> None:
    GroupBot.objects.create(unit=unit, kind="wecom", name="企微群", webhook_url=f"{base}/wecom/send?key=abc")
    GroupBot.objects.create(
        unit=unit,
        kind="dingtalk",
        name="钉钉群",
        webhook_url=f"{base}/dingtalk/robot/send?access_token=tok",
        secret=dingtalk_secret,
    )
    GroupBot.objects.create(
        unit=unit, kind="feishu", name="飞书群", webhook_url=f"{base}/feishu/hook/xyz", secret="feishu-secret"
    )
    hooks.secrets["/dingtalk/robot/send"] = "SECdemo0123456789"
    hooks.secrets["/feishu/hook/xyz"] = "feishu-secret"


def _send_all(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    claims = deliveries_claim_due(now=now)
    return deliveries_send(claims=[list(c) for c in claims], as_of=now)


def test_email_through_a_real_smtp_server(smtp: Mailbox, liaison: User) -> None:
    notify(
        recipients=[liaison],
        subject="【材料报送】统计数据",
        body="请于2024年3月15日前报送。",
        link="/chasing/materials/1/",
        ack_links={liaison.pk: "/chasing/ack/tok/"},
    )
    assert _send_all() == {"sent": 1, "failed": 0, "skipped": 0}
    assert len(smtp) == 1
    msg = smtp.messages[0]
    assert msg["Subject"] == "【材料报送】统计数据"
    assert msg["To"] == "li@czj.gov.cn"
    body = msg.get_content()
    assert "请于2024年3月15日前报送" in body
    assert "http://127.0.0.1:8000/chasing/materials/1/" in body and "/chasing/ack/tok/" in body
    delivery = Delivery.objects.get()
    assert msg["Message-ID"] == f"<qiantou-delivery-{delivery.pk}@qiantou>"
    assert delivery.state == DeliveryState.SENT and delivery.sent_at is not None
    assert InboxItem.objects.filter(user=liaison).count() == 1


def test_a_long_email_arrives_whole(smtp: Mailbox, liaison: User) -> None:
    body = "\n".join(
        f"第{i}项：市财政局承担的统计数据报送任务已逾期，请抓紧办理并报送，逾期将报督查室。"
        for i in range(200)
    )
    notify(recipients=[liaison], subject="【催办】" + "统计数据" * 30, body=body, link="/chasing/items/1/")
    assert _send_all()["sent"] == 1
    msg = smtp.messages[0]
    assert msg["Subject"] == "【催办】" + "统计数据" * 30
    assert body in msg.get_content().replace("\r\n", "\n")


def test_three_group_bots_in_their_formats(hooks: tuple[Hooks, str], unit: Unit, liaison: User) -> None:
    received, base = hooks
    _bots(unit, base, received)
    notify(
        recipients=[],
        subject="【催办】市财政局：统计数据已逾期1个工作日",
        body="请抓紧报送。",
        link="/chasing/items/7/",
        group_units=[unit],
        group_ack_link="/chasing/ack/grp/",
    )
    assert _send_all()["sent"] == 3
    wecom = received.of("wecom")[0]
    assert wecom["msgtype"] == "markdown" and "统计数据已逾期1个工作日" in wecom["markdown"]["content"]
    assert "[查看详情](http://127.0.0.1:8000/chasing/items/7/)" in wecom["markdown"]["content"]
    ding = received.of("dingtalk")[0]
    assert ding["msgtype"] == "markdown" and ding["markdown"]["title"].startswith("【催办】")
    assert "确认收到" in ding["markdown"]["text"]
    feishu = received.of("feishu")[0]
    assert feishu["msg_type"] == "post"
    post = feishu["content"]["post"]["zh_cn"]
    assert post["title"].startswith("【催办】") and post["content"][0][1]["href"].endswith(
        "/chasing/items/7/"
    )
    # the DingTalk request carried a timestamp and a signature the receiver verified
    _, _, query = next(r for r in received.received if r[0] == "dingtalk")
    assert query["sign"][0] == dingtalk_expected_sign("SECdemo0123456789", query["timestamp"][0])
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_dingtalk_signed_url_follows_the_documented_algorithm() -> None:
    # DingTalk: sign = urlEncode(base64(HmacSHA256(key=secret, "timestamp\nsecret"))), both in the query.
    import urllib.parse

    sign = channels.dingtalk_sign("SEC000", 1577262236757)
    assert sign == dingtalk_expected_sign("SEC000", "1577262236757")
    url = channels.dingtalk_signed_url(
        "https://oapi.dingtalk.com/robot/send?access_token=x", "SEC000", 1577262236.757
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["access_token"] == ["x"] and query["timestamp"] == ["1577262236757"]
    assert query["sign"] == [sign]
    assert url.endswith("sign=" + urllib.parse.quote_plus(sign))


def test_a_wrong_dingtalk_secret_is_refused_and_retried(hooks: tuple[Hooks, str], unit: Unit) -> None:
    received, base = hooks
    GroupBot.objects.create(
        unit=unit,
        kind="dingtalk",
        webhook_url=f"{base}/dingtalk/robot/send?access_token=t",
        secret="wrong-secret",
    )
    received.secrets["/dingtalk/robot/send"] = "right-secret"
    now = timezone.now()
    notify(recipients=[], subject="x", group_units=[unit], as_of=now)
    assert _send_all(now)["failed"] == 1
    d = Delivery.objects.get()
    assert d.state == DeliveryState.PENDING and "310000" in d.last_error
    assert d.next_attempt_at == now + dt.timedelta(minutes=1)


def test_restricted_messages_push_no_content(
    smtp: Mailbox, hooks: tuple[Hooks, str], unit: Unit, liaison: User
) -> None:
    received, base = hooks
    _bots(unit, base, received)
    notify(
        recipients=[liaison],
        subject="【催办】某涉密专项：核查名单",
        body="名单涉及敏感内容",
        restricted=True,
        link="/chasing/items/9/",
        group_units=[unit],
    )
    assert _send_all()["sent"] == 4
    texts = [smtp.messages[0]["Subject"], smtp.messages[0].get_content()]
    texts += [str(p) for _, p, _ in received.received]
    for text in texts:
        assert "核查名单" not in text and "敏感" not in text and "涉密专项" not in text
    assert smtp.messages[0]["Subject"] == channels.RESTRICTED_TEXT
    assert all(channels.RESTRICTED_TEXT in t for t in texts[1:])
    assert all("/chasing/items/9/" in t for t in texts[1:])
    # the inbox (behind login) keeps the content
    assert InboxItem.objects.get(user=liaison).message.subject.endswith("核查名单")


def test_http_failure_is_retried_with_backoff_then_delivered(hooks: tuple[Hooks, str], unit: Unit) -> None:
    received, base = hooks
    GroupBot.objects.create(unit=unit, kind="wecom", webhook_url=f"{base}/wecom/send?key=k")
    received.fail_next = 2
    t0 = timezone.now()
    notify(recipients=[], subject="催办", group_units=[unit], as_of=t0)
    assert _send_all(t0)["failed"] == 1
    assert _send_all(t0 + dt.timedelta(seconds=59))["sent"] == 0  # backoff: 1 minute
    assert _send_all(t0 + dt.timedelta(minutes=1))["failed"] == 1
    assert _send_all(t0 + dt.timedelta(minutes=3))["sent"] == 1
    d = Delivery.objects.get()
    assert d.attempts == 3 and d.state == DeliveryState.SENT
    assert list(DeliveryAttempt.objects.filter(delivery=d).values_list("ok", flat=True)) == [
        False,
        False,
        True,
    ]


def test_notify_with_a_dedupe_key_writes_once(liaison: User) -> None:
    first = notify(recipients=[liaison], subject="a", dedupe_key="reminder:1")
    second = notify(recipients=[liaison], subject="a", dedupe_key="reminder:1")
    assert first.pk == second.pk
    assert Message.objects.count() == 1 and Delivery.objects.count() == 1


def test_sms_goes_to_the_log_gateway_when_enabled(settings: Any, liaison: User) -> None:
    settings.QIANTOU_NOTIFY_SMS = "1"
    channels.LogSmsGateway.sent.clear()
    notify(recipients=[liaison], subject="【催办】统计数据", link="/chasing/items/1/", restricted=True)
    _send_all()
    assert channels.LogSmsGateway.sent == [
        ("13800000000", "【牵头】您有一项待办事项 http://127.0.0.1:8000/chasing/items/1/")
    ]
