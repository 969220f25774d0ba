"""Admin screens: group bots, deliveries (with a retry action for the given-up ones)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from qiantou.notifications.models import Delivery, GroupBot, Message
from qiantou.notifications.services import deliveries_retry


@admin.register(GroupBot)
class GroupBotAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "unit", "active")
    list_filter = ("kind", "active")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("subject", "created_at", "restricted", "object_type", "object_id")
    readonly_fields = tuple(f.name for f in Message._meta.fields)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("message", "channel", "address", "state", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("channel", "state")
    readonly_fields = tuple(f.name for f in Delivery._meta.fields)
    actions = ("retry",)

    @admin.action(description="重新发送所选失败推送")
    def retry(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        deliveries_retry(actor=request.user, delivery_ids=list(queryset.values_list("pk", flat=True)))
