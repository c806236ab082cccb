from django.db import migrations, models


class Migration(migrations.Migration):
    """The Entity Timeline's "as of" view lists and counts the memories valid at a moment
    (valid_from <= T and valid_to null or after T) from one index."""

    dependencies = [("memory", "0006_memory_validity")]

    operations = [
        migrations.AddIndex(
            model_name="memory",
            index=models.Index(fields=["entity", "valid_from", "valid_to"], name="memory_entity_validity"),
        ),
    ]
