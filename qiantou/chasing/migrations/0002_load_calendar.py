"""Load every year the chinese-calendar package covers, so a fresh install counts working days at once.

Later corrections are made in the admin or with ``qiantou calendar_load YEAR`` (which also audits).
"""

from django.db import migrations


def load(apps, schema_editor):
    import chinese_calendar

    from qiantou.workdays.calendar import chinese_calendar_entries, chinese_calendar_years

    HolidayYear = apps.get_model("chasing", "HolidayYear")
    CalendarDay = apps.get_model("chasing", "CalendarDay")
    for year in chinese_calendar_years():
        if HolidayYear.objects.filter(year=year).exists():
            continue
        row = HolidayYear.objects.create(year=year, source=f"chinese-calendar {chinese_calendar.__version__}")
        CalendarDay.objects.bulk_create(
            [CalendarDay(year=row, date=d, is_working_day=w, name=n[:64]) for d, w, n in chinese_calendar_entries(year)]
        )


def unload(apps, schema_editor):
    apps.get_model("chasing", "HolidayYear").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("chasing", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
