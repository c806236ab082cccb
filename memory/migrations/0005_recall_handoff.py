from django.db import migrations, models


class Migration(migrations.Migration):
    """Recall hits say why a row was recalled without matching the query (a co-mention, or a handoff:
    another agent's work of the last minutes), so the recall event records it."""

    dependencies = [("memory", "0004_dashboard_speed")]

    operations = [
        migrations.AddField(
            model_name="recallhit",
            name="via",
            field=models.CharField(
                blank=True,
                default="",
                help_text="Why it was recalled without matching the query: 'co-mentioned with memory 12' (extracted "
                "with a stronger match) or 'handoff from <process>' (another agent's work of the last minutes).",
                max_length=200,
            ),
        ),
    ]
