"""TaskUnit.plan: the task's plan repeated on each named unit, indexed with the unit.

Added nullable, filled from the tasks in one statement, then made required.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0002_visibility_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="taskunit",
            name="plan",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="plans.plan"
            ),
        ),
        migrations.RunSQL(
            "UPDATE plans_taskunit SET plan_id = "
            "(SELECT plans_task.plan_id FROM plans_task WHERE plans_task.id = plans_taskunit.task_id)",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="taskunit",
            name="plan",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="plans.plan"),
        ),
        migrations.AddIndex(
            model_name="taskunit",
            index=models.Index(fields=["unit", "plan"], name="taskunit_unit_plan"),
        ),
    ]
