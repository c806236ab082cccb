import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Episodes: each augmented exchange's shareable prose, searchable beside the memories extracted
    from it (recall finds what extraction missed), and recall hits that point at one."""

    dependencies = [
        ("memory", "0007_memory_validity_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="Episode",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("content", models.TextField()),
                ("occurred_at", models.DateTimeField(help_text="When the exchange took place (its original time).")),
                ("embedding", models.BinaryField(blank=True, null=True)),
                ("embedding_model", models.CharField(blank=True, editable=False, max_length=100)),
                (
                    "entity",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="episodes",
                        to="memory.entity",
                    ),
                ),
                (
                    "exchange",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="episode", to="memory.exchange"
                    ),
                ),
                (
                    "process",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="episodes", to="memory.process"
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="episodes", to="memory.session"
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at"],
            },
        ),
        migrations.AddField(
            model_name="recallhit",
            name="episode",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="recall_hits",
                to="memory.episode",
            ),
        ),
        migrations.AddIndex(
            model_name="episode",
            index=models.Index(fields=["entity", "id"], name="episode_entity_ids"),
        ),
    ]
