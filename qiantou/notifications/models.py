"""One notification service: messages, the in-app inbox, and per-channel deliveries with retries.

A :class:`Message` is written once (``dedupe_key`` makes writing it idempotent); each recipient gets an
:class:`InboxItem`; each push channel (e-mail, WeCom / DingTalk / Feishu group bots, SMS) gets a
:class:`Delivery` whose ``next_attempt_at`` is claimed by the scheduler with a compare-and-set update
and sent by a worker. Every attempt is kept as a :class:`DeliveryAttempt`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where a message goes."""

    INBOX = "inbox", _("站内消息")
    EMAIL = "email", _("电子邮件")
    WECOM = "wecom", _("企业微信群机器人")
    DINGTALK = "dingtalk", _("钉钉群机器人")
    FEISHU = "feishu", _("飞书群机器人")
    SMS = "sms", _("短信")


BOT_CHANNELS = (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU)


class GroupBot(models.Model):
    """A group chat's webhook robot; messages for ``unit`` are posted there."""

    unit = models.ForeignKey(
        "units.Unit", on_delete=models.CASCADE, related_name="group_bots", verbose_name=_("单位")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=[(c.value, c.label) for c in BOT_CHANNELS])
    name = models.CharField(_("名称"), max_length=64, blank=True)
    webhook_url = models.URLField(_("Webhook 地址"), max_length=500)
    secret = models.CharField(
        _("加签密钥"),
        max_length=128,
        blank=True,
        help_text=_("钉钉“加签”或飞书“签名校验”的密钥；企业微信无需填写。"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("群机器人")
        verbose_name_plural = _("群机器人")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk}"


class Message(models.Model):
    """One notification. ``restricted`` messages push no content, only a notice and the link."""

    subject = models.CharField(_("标题"), max_length=255)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    restricted = models.BooleanField(_("受限"), default=False)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=128, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=["object_type", "object_id"]),)
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return self.subject


class InboxItem(models.Model):
    """A message in one user's in-app inbox."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="inbox_items")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items")
    read_at = models.DateTimeField(null=True, blank=True)
    ack_link = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-message__created_at", "-id")
        constraints = (models.UniqueConstraint(fields=["message", "user"], name="inbox_unique_message_user"),)
        indexes = (models.Index(fields=["user", "read_at"]),)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.message_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    QUEUED = "queued", _("排队中")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已送达")
    DEAD = "dead", _("发送失败")


class Delivery(models.Model):
    """One push of a message over one channel to one address (an e-mail, a phone, a group bot).

    ``next_attempt_at`` is the scheduling datum: the scheduler claims a row whose time has come with
    ``UPDATE … SET next_attempt_at = <lease> WHERE id = … AND next_attempt_at = <old>``; a worker then
    claims the lease the same way before sending. A lease that runs out (a worker killed mid-send) makes
    the row due again: it is retried, and the retry is logged as a :class:`DeliveryAttempt`.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bot = models.ForeignKey(GroupBot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    address = models.CharField(_("地址"), max_length=255)
    ack_link = models.CharField(max_length=500, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("错误"), blank=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = (
            models.UniqueConstraint(fields=["message", "channel", "address"], name="delivery_unique_target"),
        )
        indexes = (models.Index(fields=["next_attempt_at"], name="delivery_next_attempt_idx"),)
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")

    def __str__(self) -> str:
        return f"{self.channel}→{self.address} ({self.state})"


class DeliveryAttempt(models.Model):
    """One try at a delivery: when, by which worker, and how it ended."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    worker = models.CharField(max_length=128, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    retry_of_interrupted = models.BooleanField(default=False)

    class Meta:
        ordering = ("delivery", "number", "id")

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number}"
