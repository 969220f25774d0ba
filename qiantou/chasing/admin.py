"""Admin screens: the holiday calendar (load a year, correct a day), ladders, cycles, items."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from qiantou.audit.services import audit_record
from qiantou.chasing.models import CalendarDay, ChaseItem, HolidayYear, Reminder, ReminderLadder, ReportCycle
from qiantou.chasing.services import calendar_load_year, resume_paused_items
from qiantou.workdays import CalendarYearNotLoaded


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ("date", "is_working_day", "name")


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "updated_at")
    inlines = (CalendarDayInline,)
    actions = ("reload_from_package",)

    def save_model(self, request: HttpRequest, obj: HolidayYear, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user, action="calendar.edit", obj=obj, payload={"year": obj.year, "note": obj.note}
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for day in instances:
            day.save()
        for day in formset.deleted_objects:
            day.delete()
        if instances or formset.deleted_objects:
            audit_record(
                actor=request.user,
                action="calendar.correct",
                obj=form.instance,
                payload={
                    "changed": [[d.date.isoformat(), d.is_working_day, d.name] for d in instances],
                    "deleted": [d.date.isoformat() for d in formset.deleted_objects],
                },
            )
            form.instance.save(update_fields=["updated_at"])
            from django.utils import timezone

            resume_paused_items(now=timezone.now())

    @admin.action(description="从 chinese-calendar 重新载入所选年度（覆盖更正）")
    def reload_from_package(self, request: HttpRequest, queryset: QuerySet[HolidayYear]) -> None:
        for row in queryset:
            try:
                calendar_load_year(actor=request.user, year=row.year)
            except CalendarYearNotLoaded as exc:
                self.message_user(request, str(exc), messages.ERROR)


@admin.register(ReminderLadder)
class ReminderLadderAdmin(admin.ModelAdmin):
    list_display = ("plan", "send_time", "warning_working_days", "updated_at")


@admin.register(ReportCycle)
class ReportCycleAdmin(admin.ModelAdmin):
    list_display = ("title", "plan", "start_date", "end_date", "next_generate_at", "active")
    readonly_fields = ("next_generate_at",)


@admin.register(ChaseItem)
class ChaseItemAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "unit", "due_date", "state", "next_remind_at", "next_rung")
    list_filter = ("kind", "state")
    readonly_fields = tuple(f.name for f in ChaseItem._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("item", "label", "scheduled_for", "dispatched_at", "acknowledged_at", "cancelled")
    readonly_fields = tuple(f.name for f in Reminder._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
