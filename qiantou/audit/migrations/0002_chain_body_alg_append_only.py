"""Store each event's hashed body and algorithm; make the table append-only with triggers.

Events written before this migration hashed the same canonical JSON that ``body`` now stores, so the
backfill reproduces their bodies and finds which algorithm made their hash.
"""

from django.db import migrations, models

import qiantou.audit.fields
from qiantou.audit import chain, protection


def backfill_bodies(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    db = schema_editor.connection.alias
    for event in AuditEvent.objects.using(db).filter(body="").order_by("seq").iterator(chunk_size=1000):
        body = chain.event_body(
            seq=event.seq,
            created_at=event.created_at,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            actor_unit_id=event.actor_unit_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            payload=event.payload,
            prev_hash=event.prev_hash,
        )
        alg = next((a for a in chain.ALGORITHMS if chain.event_hash(body, a) == event.hash), "sm3")
        # Re-save the payload too: on SQLite the column now holds canonical text.
        AuditEvent.objects.using(db).filter(pk=event.pk).update(body=body, alg=alg, payload=event.payload)


def install_triggers(apps, schema_editor):
    protection.install(schema_editor)


def uninstall_triggers(apps, schema_editor):
    protection.uninstall(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="alg",
            field=models.CharField(default="sm3", max_length=16),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="body",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="payload",
            field=qiantou.audit.fields.CanonicalJSONField(default=dict),
        ),
        migrations.RunPython(backfill_bodies, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, uninstall_triggers),
    ]
