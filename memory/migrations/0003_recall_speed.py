from django.db import migrations, models


class Migration(migrations.Migration):
    """The recall cache's refresh check reads every memory's (id, content hash, kind, owner) of one
    entity after each write: this index holds all of them, so PostgreSQL answers from the index
    alone (100,000 memories: 17 ms instead of 137 ms of heap reads); SQLite's index rows carry the
    row id, so there too no table row is read."""

    dependencies = [("memory", "0002_dashboard_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="memory",
            index=models.Index(
                fields=["entity", "content_hash", "kind", "owner_process"],
                include=["id"],
                name="memory_entity_fingerprints",
            ),
        ),
    ]
