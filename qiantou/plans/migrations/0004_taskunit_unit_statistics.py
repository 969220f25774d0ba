"""PostgreSQL: keep a frequency for every unit in plans_taskunit.unit_id's statistics.

With the default target (100) a city's 240+ units do not all fit in the most-common-values list, so
the planner guessed ~900 named tasks for any unit, including one named on none, and walked the
whole task table in printed order hoping to fill a page early (60 ms for an empty unit's list).
SQLite keeps no such statistics: nothing to do there.
"""

from django.db import migrations


def set_target(apps, schema_editor, target: int = 1000) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE plans_taskunit ALTER COLUMN unit_id SET STATISTICS {target}")


def reset_target(apps, schema_editor) -> None:
    set_target(apps, schema_editor, -1)


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0003_taskunit_plan"),
    ]

    operations = [migrations.RunPython(set_target, reset_target)]
