import django.db.models.deletion
from django.db import migrations, models


def backfill_valid_from(apps, schema_editor):
    """Existing memories have been valid since they were first seen."""
    Memory = apps.get_model("memory", "Memory")
    Memory.objects.filter(valid_from__isnull=True).update(valid_from=models.F("first_seen_at"))


class Migration(migrations.Migration):
    """Memories get a validity interval and the state claim they make, so that a later memory with
    another value of the same claim (a provider, a date, a city) supersedes the older one, which keeps
    its history (valid_to, superseded_by) instead of being overwritten."""

    dependencies = [("memory", "0005_recall_handoff")]

    operations = [
        migrations.AddField(
            model_name="memory",
            name="claim_attribute",
            field=models.CharField(blank=True, default="", max_length=100),
        ),
        migrations.AddField(
            model_name="memory",
            name="claim_subject",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="memory",
            name="claim_value",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.AddField(
            model_name="memory",
            name="claim_value_type",
            field=models.CharField(blank=True, default="", max_length=20),
        ),
        migrations.AddField(
            model_name="memory",
            name="superseded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="supersedes",
                to="memory.memory",
            ),
        ),
        migrations.AddField(
            model_name="memory",
            name="valid_from",
            field=models.DateTimeField(blank=True, help_text="When it was first said.", null=True),
        ),
        migrations.AddField(
            model_name="memory",
            name="valid_to",
            field=models.DateTimeField(blank=True, help_text="When a later memory superseded it.", null=True),
        ),
        migrations.AddIndex(
            model_name="memory",
            index=models.Index(
                condition=models.Q(("valid_to__isnull", True), models.Q(("claim_subject", ""), _negated=True)),
                fields=["entity", "claim_subject"],
                name="memory_current_claims",
            ),
        ),
        migrations.RunPython(backfill_valid_from, migrations.RunPython.noop),
    ]
